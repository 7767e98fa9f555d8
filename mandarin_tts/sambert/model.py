"""Our PyTorch Sambert (KAN-TTS `KanTtsSAMBERT`) for inference only, in eval mode.

Module and parameter names and shapes equal KAN-TTS's `KanTtsSAMBERT.state_dict()`, so a KAN-TTS
checkpoint's `["model"]` loads directly (see checkpoint.py for the strict check).

Pipeline (B items, T units, F frames, N = ceil(F / r) decoder steps of r frames):
  encode()         units -> text encoder (self-attention FFT blocks) -> 32-d text states,
                   emotion/speaker embeddings, pitch and energy predictors (FSMN + BLSTM) whose
                   embeddings are added to the text states; returns the duration predictor's
                   conditioning.
  duration_step()  one step of the autoregressive 2-layer LSTM duration predictor (log(d + 1)).
  regulate()       durations -> frames (length regulator), duration position encoding, the
                   decoder memory (r frames of text + speaker + emotion per step) and each PNCA
                   layer's memory keys/values, frame counts and attention band widths.
  decoder_step()   one PNCA decoder step for the batch: r mel frames from the previous frame,
                   with a windowed self-attention cache as explicit state.
  postnet()        FSMN + LSTM residual on the decoder frames -> the mel the vocoder takes.

The batched functions give each item exactly what KAN-TTS computes for it alone (batch 1, as
ModelScope runs it); the padding rules that make that true are noted where they apply.
`infer_reference()` is a separate batch-1 path written after KAN-TTS's own structure (full
caches, band masks over the whole sequence) that the tests compare the batched path with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mandarin_tts.sambert.config import SambertConfig, memory_padding
from mandarin_tts.sambert.framing import SambertItem, model_units


def sinusoid_table(n_position: int, depth: int) -> Tensor:
    """The text encoder's position table (positions 1..n), computed in float64 like KAN-TTS."""
    half = depth // 2
    positions = np.arange(1, n_position + 1, dtype=np.float64)[:, None]
    rates = np.power(10000.0, np.arange(half, dtype=np.float64) / float(depth / 2 - 1))
    angles = positions / rates[None, :]
    table = np.zeros((n_position, depth))
    table[:, :half] = np.sin(angles)
    table[:, half:] = np.cos(angles)
    return torch.from_numpy(table).float()


def dur_inv_timescales(depth: int) -> Tensor:
    return torch.tensor(
        [np.power(10000, 2 * (i // 2) / depth) for i in range(depth)], dtype=torch.float32
    )


def attend(q: Tensor, k: Tensor, v: Tensor, allowed: Tensor, n_head: int) -> Tensor:
    """Multi-head scaled dot-product attention; q [B,Lq,D], k/v [B,Lk,D], allowed [B,Lq|1,Lk].

    Heads are contiguous d_head slices of D, as KAN-TTS's view/permute lays them out.
    """
    b, lq, d = q.shape
    lk = k.shape[1]
    dh = d // n_head
    qh = q.reshape(b, lq, n_head, dh).transpose(1, 2)
    kh = k.reshape(b, lk, n_head, dh).transpose(1, 2)
    vh = v.reshape(b, lk, n_head, dh).transpose(1, 2)
    scores = torch.matmul(qh, kh.transpose(2, 3)) / math.sqrt(dh)
    scores = scores.masked_fill(~allowed[:, None], float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    out = torch.matmul(weights, vh)
    return out.transpose(1, 2).reshape(b, lq, d)


def _attend_heads(q: Tensor, k: Tensor, v: Tensor, allowed: Tensor, scale: float) -> Tensor:
    """Head-split attention: q [B,H,1,dh], k/v [B,H,K,dh], allowed [B,1,1,K] -> [B,H,1,dh]."""
    scores = torch.matmul(q, k.transpose(2, 3)) / scale
    weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
    return torch.matmul(weights, v)


def _conv_t(conv: nn.Conv1d, x: Tensor) -> Tensor:
    """Apply a Conv1d to [B, T, C] (channels last)."""
    return conv(x.transpose(1, 2)).transpose(1, 2)


class Prenet(nn.Module):
    """Linear+ReLU stack; Identity stands where KAN-TTS has Dropout so the indices match."""

    def __init__(self, in_units: int, units: tuple[int, ...], out_units: int = 0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for d_in, d_out in zip((in_units, *units[:-1]), units, strict=True):
            layers += [nn.Linear(d_in, d_out), nn.ReLU(), nn.Identity()]
        if out_units:
            layers.append(nn.Linear(units[-1], out_units))
        self.fcs = nn.ModuleList(layers)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.fcs:
            x = layer(x)
        return x


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, n_head: int, d_in: int, d_model: int, d_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.layer_norm = nn.LayerNorm(d_in, eps=1e-6)
        self.w_qkv = nn.Linear(d_in, 3 * n_head * d_head)
        self.fc = nn.Linear(n_head * d_head, d_model)

    def forward(self, x: Tensor, allowed: Tensor) -> Tensor:
        q, k, v = self.w_qkv(self.layer_norm(x)).chunk(3, dim=-1)
        out = self.fc(attend(q, k, v, allowed, self.n_head))
        # KAN-TTS adds the residual only where the widths agree (not in the first layer).
        return out + x if out.shape[-1] == x.shape[-1] else out


class PositionwiseConvFeedForward(nn.Module):
    def __init__(self, d_in: int, d_hid: int, kernel_size: tuple[int, int]) -> None:
        super().__init__()
        self.w_1 = nn.Conv1d(d_in, d_hid, kernel_size[0], padding=(kernel_size[0] - 1) // 2)
        self.w_2 = nn.Conv1d(d_hid, d_in, kernel_size[1], padding=(kernel_size[1] - 1) // 2)
        self.layer_norm = nn.LayerNorm(d_in, eps=1e-6)

    def forward(self, x: Tensor, pad: Tensor | None = None) -> Tensor:
        h = self.layer_norm(x)
        if pad is not None:
            # Batching rule: KAN-TTS convolves LayerNorm(0) = beta at padded positions, which
            # leaks into the last real unit through the k=3 kernel; zeroing them gives each item
            # the zero padding it has alone (a no-op without padding, i.e. at batch 1).
            h = h.masked_fill(pad[..., None], 0.0)
        h = F.relu(_conv_t(self.w_1, h))
        if pad is not None:
            h = h.masked_fill(pad[..., None], 0.0)
        return _conv_t(self.w_2, h) + x


class FFTBlock(nn.Module):
    def __init__(self, d_in: int, d_model: int, n_head: int, d_inner: int) -> None:
        super().__init__()
        self.slf_attn = MultiHeadSelfAttention(n_head, d_in, d_model, d_model // n_head)
        self.pos_ffn = PositionwiseConvFeedForward(d_model, d_inner, (3, 1))

    def forward(self, x: Tensor, pad: Tensor, allowed: Tensor) -> Tensor:
        out = self.slf_attn(x, allowed).masked_fill(pad[..., None], 0.0)
        return self.pos_ffn(out, pad).masked_fill(pad[..., None], 0.0)


class SinusoidalPositionEncoder(nn.Module):
    def __init__(self, max_len: int, depth: int) -> None:
        super().__init__()
        # A Parameter (requires_grad False) in KAN-TTS, hence a state-dict entry.
        self.position_enc = nn.Parameter(sinusoid_table(max_len, depth)[None], requires_grad=False)


class SelfAttentionEncoder(nn.Module):
    def __init__(self, cfg: SambertConfig) -> None:
        super().__init__()
        d_model = cfg.encoder_num_units
        d_ins = [cfg.embedding_dim] + [d_model] * (cfg.encoder_num_layers - 1)
        self.d_model = d_model
        self.fft = nn.ModuleList(
            [FFTBlock(d, d_model, cfg.encoder_num_heads, cfg.encoder_ffn_inner_dim) for d in d_ins]
        )
        self.ln = nn.LayerNorm(d_model, eps=1e-6)
        self.position_enc = SinusoidalPositionEncoder(cfg.max_len, cfg.embedding_dim)


class TextFftEncoder(nn.Module):
    def __init__(self, cfg: SambertConfig) -> None:
        super().__init__()
        d_emb = cfg.embedding_dim
        self.sy_emb = nn.Embedding(cfg.vocab.sy, d_emb)
        self.tone_emb = nn.Embedding(cfg.vocab.tone, d_emb)
        self.syllable_flag_emb = nn.Embedding(cfg.vocab.syllable_flag, d_emb)
        self.ws_emb = nn.Embedding(cfg.vocab.word_segment, d_emb)
        self.ling_enc = SelfAttentionEncoder(cfg)
        self.ling_proj = nn.Linear(cfg.encoder_num_units, cfg.encoder_projection_units, bias=False)
        # Positions beyond the checkpoint's max_len (KAN-TTS recomputes the table for them);
        # export.py widens this to the exported unit limit.
        self.register_buffer("position_table", sinusoid_table(cfg.max_len, d_emb), persistent=False)

    def refresh_position_table(self, n_position: int) -> None:
        """Loaded rows first, computed rows beyond them (identical formula)."""
        loaded = self.ling_enc.position_enc.position_enc.detach()[0]
        rows = max(n_position, loaded.shape[0])
        table = sinusoid_table(rows, loaded.shape[1])
        table[: loaded.shape[0]] = loaded
        self.position_table = table

    def forward(self, ling: Tensor, pad: Tensor) -> Tensor:
        emb = (
            self.sy_emb(ling[:, :, 0])
            + self.tone_emb(ling[:, :, 1])
            + self.syllable_flag_emb(ling[:, :, 2])
            + self.ws_emb(ling[:, :, 3])
        )
        enc = self.ling_enc
        # KAN-TTS scales by sqrt(encoder_num_units) although the embedding is embedding_dim wide.
        x = emb * (enc.d_model**0.5)
        x = x + self.position_table[: ling.shape[1]][None]
        allowed = ~pad[:, None, :]  # keys: real units only
        for layer in enc.fft:
            x = layer(x, pad, allowed)
        return self.ling_proj(enc.ln(x))


class FeedForwardNet(nn.Module):
    def __init__(self, d_in: int, d_hid: int, d_out: int) -> None:
        super().__init__()
        self.w_1 = nn.Conv1d(d_in, d_hid, 1)
        self.w_2 = nn.Conv1d(d_hid, d_out, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return _conv_t(self.w_2, F.relu(_conv_t(self.w_1, x)))


class MemoryBlockV2(nn.Module):
    def __init__(self, d: int, filter_size: int, shift: int) -> None:
        super().__init__()
        self.lp, self.rp = memory_padding(filter_size, shift)
        self.conv_dw = nn.Conv1d(d, d, filter_size, 1, 0, groups=d, bias=False)

    def forward(self, x: Tensor, pad: Tensor) -> Tensor:
        x = x.masked_fill(pad[..., None], 0.0)
        y = self.conv_dw(F.pad(x.transpose(1, 2), (self.lp, self.rp))).transpose(1, 2) + x
        return y.masked_fill(pad[..., None], 0.0)


class FsmnEncoderV2(nn.Module):
    def __init__(
        self,
        filter_size: int,
        num_layers: int,
        d_in: int,
        d_memory: int,
        d_inner: int,
        shifts: tuple[int, ...],
    ) -> None:
        super().__init__()
        self.ffn_lst = nn.ModuleList(
            [
                FeedForwardNet(d_in if i == 0 else d_memory, d_inner, d_memory)
                for i in range(num_layers)
            ]
        )
        self.memory_block_lst = nn.ModuleList(
            [MemoryBlockV2(d_memory, filter_size, shifts[i]) for i in range(num_layers)]
        )

    def forward(self, x: Tensor, pad: Tensor) -> Tensor:
        for ffn, block in zip(self.ffn_lst, self.memory_block_lst, strict=True):
            memory = block(ffn(x), pad)
            x = memory + x if memory.shape[-1] == x.shape[-1] else memory
        return x


def _reverse_within_lengths(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each item's first lengths[b] steps, leaving the padding where it is."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]
    index = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)
    return torch.gather(x, 1, index[..., None].expand(-1, -1, x.shape[2]))


def _lstm_direction(lstm: nn.LSTM, x: Tensor, suffix: str) -> Tensor:
    weights = [
        getattr(lstm, f"{name}_l0{suffix}")
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    h0 = x.new_zeros(1, x.shape[0], lstm.hidden_size)
    out, _, _ = torch.lstm(x, (h0, h0), weights, True, 1, 0.0, False, False, True)
    return out


class VarFsmnRnnNARPredictor(nn.Module):
    """Pitch / energy predictor: FSMN then a BLSTM then a scalar per unit."""

    def __init__(self, cfg: SambertConfig) -> None:
        super().__init__()
        self.fsmn = FsmnEncoderV2(
            cfg.predictor_filter_size,
            cfg.predictor_fsmn_num_layers,
            cfg.duration_cond_units,
            cfg.predictor_num_memory_units,
            cfg.predictor_ffn_inner_dim,
            cfg.predictor_shift,
        )
        self.blstm = nn.LSTM(
            cfg.predictor_num_memory_units,
            cfg.predictor_lstm_units,
            num_layers=1,
            batch_first=True,
            bidirectional=True,
        )
        self.fc = nn.Linear(2 * cfg.predictor_lstm_units, 1)

    def forward(self, x: Tensor, pad: Tensor, lengths: Tensor) -> Tensor:
        h = self.fsmn(x, pad)
        # KAN-TTS packs the sequence; the equivalent here runs the backward direction over each
        # item reversed within its own length, so it starts at the item's last real unit.
        fwd = _lstm_direction(self.blstm, h, "")
        bwd = _reverse_within_lengths(
            _lstm_direction(self.blstm, _reverse_within_lengths(h, lengths), "_reverse"), lengths
        )
        out = self.fc(torch.cat([fwd, bwd], dim=-1)).squeeze(-1)
        return out.masked_fill(pad, 0.0)


class VarRnnARPredictor(nn.Module):
    """Duration predictor: autoregressive over units, fed its own previous log(d + 1)."""

    def __init__(self, cfg: SambertConfig) -> None:
        super().__init__()
        units = cfg.dur_pred_prenet_units
        self.prenet = Prenet(1, units)
        self.lstm = nn.LSTM(
            units[-1] + cfg.duration_cond_units,
            cfg.dur_pred_lstm_units,
            num_layers=2,
            batch_first=True,
        )
        self.fc = nn.Linear(cfg.dur_pred_lstm_units, 1)

    def step(
        self, prev: Tensor, cond: Tensor, h: Tensor, c: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """prev [B,1], cond [B,C], h/c [2,B,H] -> (log(d+1) [B,1], h, c)."""
        x = torch.cat([self.prenet(prev[:, None, :]), cond[:, None, :]], dim=-1)
        y, (h, c) = self.lstm(x, (h, c))
        return F.relu(self.fc(y[:, 0, :])), h, c


class DurSinusoidalPositionEncoder(nn.Module):
    def __init__(self, depth: int) -> None:
        super().__init__()
        self.inv_timescales = nn.Parameter(dur_inv_timescales(depth), requires_grad=False)

    def encode(self, dur_pos: Tensor) -> Tensor:
        """dur_pos [B, F] (1-based frame index inside its unit, 0 on padding) -> [B, F, depth]."""
        angles = dur_pos[:, :, None] / self.inv_timescales[None, None, :]
        even = (torch.arange(angles.shape[-1], device=angles.device) % 2) == 0
        return torch.where(even, torch.sin(angles), torch.cos(angles))


class VarianceAdaptor(nn.Module):
    def __init__(self, cfg: SambertConfig) -> None:
        super().__init__()
        self.pitch_predictor = VarFsmnRnnNARPredictor(cfg)
        self.energy_predictor = VarFsmnRnnNARPredictor(cfg)
        self.duration_predictor = VarRnnARPredictor(cfg)
        self.dur_position_encoder = DurSinusoidalPositionEncoder(cfg.encoder_projection_units)
        p = cfg.encoder_projection_units
        self.pitch_emb = nn.Conv1d(1, p, kernel_size=9, padding=4)
        self.energy_emb = nn.Conv1d(1, p, kernel_size=9, padding=4)


class MultiHeadPNCAAttention(nn.Module):
    def __init__(self, n_head: int, d_model: int, d_mem: int) -> None:
        super().__init__()
        self.n_head = n_head
        d = n_head * (d_model // n_head)
        self.layer_norm = nn.LayerNorm(d_model, eps=1e-6)
        self.w_x_qkv = nn.Linear(d_model, 3 * d)
        self.fc_x = nn.Linear(d, d_model)
        self.w_h_kv = nn.Linear(d_mem, 2 * d)
        self.fc_h = nn.Linear(d, d_model)


class PNCABlock(nn.Module):
    def __init__(self, d_model: int, d_mem: int, n_head: int, d_inner: int) -> None:
        super().__init__()
        self.pnca_attn = MultiHeadPNCAAttention(n_head, d_model, d_mem)
        self.pos_ffn = PositionwiseConvFeedForward(d_model, d_inner, (1, 1))

    def attend_step(
        self,
        x: Tensor,
        x_keys: Tensor,
        x_values: Tensor,
        x_allowed: Tensor,
        h_keys: Tensor,
        h_values: Tensor,
        h_allowed: Tensor,
        q: Tensor,
    ) -> Tensor:
        """Past-frame attention + memory attention + residual, then the FFN."""
        att = self.pnca_attn
        out_x = att.fc_x(attend(q, x_keys, x_values, x_allowed, att.n_head))
        out_h = att.fc_h(attend(q, h_keys, h_values, h_allowed, att.n_head))
        return self.pos_ffn(out_x + out_h + x)


class HybridAttentionDecoder(nn.Module):
    def __init__(self, cfg: SambertConfig) -> None:
        super().__init__()
        d_model = cfg.decoder_num_units
        d_mem = cfg.decoder_memory_units
        self.d_model = d_model
        self.prenet = Prenet(cfg.num_mels, cfg.decoder_prenet_units, d_model)
        self.dec_in_proj = nn.Linear(d_model + d_mem, d_model)
        self.pnca = nn.ModuleList(
            [
                PNCABlock(d_model, d_mem, cfg.decoder_num_heads, cfg.decoder_ffn_inner_dim)
                for _ in range(cfg.decoder_num_layers)
            ]
        )
        self.ln = nn.LayerNorm(d_model, eps=1e-6)
        self.dec_out_proj = nn.Linear(d_model, cfg.num_mels * cfg.outputs_per_step)

    def layers(self) -> list[PNCABlock]:
        return [cast(PNCABlock, layer) for layer in self.pnca]

    def step_input(self, prev_frame: Tensor, memory_row: Tensor) -> Tensor:
        """[B, d_mel] previous frame + [B, d_mem] memory row -> [B, 1, d_model]."""
        x = self.dec_in_proj(torch.cat([memory_row, self.prenet(prev_frame)], dim=-1))
        return (x * (self.d_model**0.5))[:, None, :]


class MelPNCADecoder(nn.Module):
    def __init__(self, cfg: SambertConfig) -> None:
        super().__init__()
        self.mel_dec = HybridAttentionDecoder(cfg)


class PostNet(nn.Module):
    def __init__(self, cfg: SambertConfig) -> None:
        super().__init__()
        self.fsmn = FsmnEncoderV2(
            cfg.postnet_filter_size,
            cfg.postnet_fsmn_num_layers,
            cfg.num_mels,
            cfg.postnet_num_memory_units,
            cfg.postnet_ffn_inner_dim,
            cfg.postnet_shift,
        )
        self.lstm = nn.LSTM(cfg.postnet_num_memory_units, cfg.postnet_lstm_units, batch_first=True)
        self.fc = nn.Linear(cfg.postnet_lstm_units, cfg.num_mels)


@dataclass(frozen=True)
class EncoderOutputs:
    dur_cond: Tensor  # [B, T, C] duration predictor conditioning
    text: Tensor  # [B, T, P] text states + pitch and energy embeddings
    emotion: Tensor  # [B, T, E]
    speaker: Tensor  # [B, T, S]
    pitch: Tensor  # [B, T]
    energy: Tensor  # [B, T]


@dataclass(frozen=True)
class RegulatedOutputs:
    memory: Tensor  # [B, N, d_mem]
    memory_kv: Tensor  # [L, 2, B, H, N, dh] each PNCA layer's memory keys (0) / values (1)
    frame_lengths: Tensor  # [B] int64, frames per item (KAN-TTS's LR_length_rounded)
    num_steps: Tensor  # [B] int64, ceil(frames / r)
    band_width: Tensor  # [B] int64, PNCA attention band (x_band_width = h_band_width)


class SambertModel(nn.Module):
    """KanTtsSAMBERT's parameters with batched, padding-exact inference functions."""

    def __init__(self, cfg: SambertConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.r = cfg.outputs_per_step
        self.text_encoder = TextFftEncoder(cfg)
        self.spk_tokenizer = nn.Embedding(cfg.vocab.speaker, cfg.speaker_units)
        self.emo_tokenizer = nn.Embedding(cfg.vocab.emotion, cfg.emotion_units)
        self.variance_adaptor = VarianceAdaptor(cfg)
        self.mel_decoder = MelPNCADecoder(cfg)
        self.mel_postnet = PostNet(cfg)
        self.eval()

    # -- after loading weights ----------------------------------------------------------------
    def refresh_position_table(self, n_position: int = 0) -> None:
        self.text_encoder.refresh_position_table(n_position)

    # -- batched pieces (what export.py puts into ONNX) ---------------------------------------
    def encode(
        self, ling: Tensor, emotion: Tensor, speaker: Tensor, lengths: Tensor
    ) -> EncoderOutputs:
        """ling [B,T,4], emotion/speaker [B,T] int64, lengths [B] (units per item)."""
        pad = torch.arange(ling.shape[1], device=ling.device)[None, :] >= lengths[:, None]
        text = self.text_encoder(ling, pad)
        emo = self.emo_tokenizer(emotion)
        spk = self.spk_tokenizer(speaker)
        va = self.variance_adaptor
        cond = torch.cat([text, spk, emo], dim=-1)
        pitch = va.pitch_predictor(cond, pad, lengths)
        energy = va.energy_predictor(cond, pad, lengths)
        # The predictions are 0 on padding, so the k=9 convolutions see the zero padding an
        # item has alone.
        text_aug = (
            text
            + _conv_t(va.pitch_emb, pitch[..., None])
            + _conv_t(va.energy_emb, energy[..., None])
        )
        dur_cond = torch.cat([text_aug, spk, emo], dim=-1)
        return EncoderOutputs(dur_cond, text_aug, emo, spk, pitch, energy)

    def duration_step(
        self, prev: Tensor, cond: Tensor, h: Tensor, c: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        return self.variance_adaptor.duration_predictor.step(prev, cond, h, c)

    def durations(self, log_dur: Tensor, lengths: Tensor, speed: Tensor) -> Tensor:
        """Frames per unit before rounding: exp(log_dur) - 1, 0 on padding, divided by speed.

        THE place where speed applies: after the autoregressive loop (which is fed the
        model's own, unscaled log durations) and before rounding; speed 1.0 divides by 1.0,
        which leaves KAN-TTS's values bit for bit.
        """
        pad = torch.arange(log_dur.shape[1], device=log_dur.device)[None, :] >= lengths[:, None]
        dur = (torch.exp(log_dur) - 1.0).masked_fill(pad, 0.0)
        return dur / speed[:, None]

    def regulate(
        self,
        text: Tensor,
        emotion: Tensor,
        speaker: Tensor,
        log_dur: Tensor,
        lengths: Tensor,
        speed: Tensor,
    ) -> RegulatedOutputs:
        r = self.r
        dur = self.durations(log_dur, lengths, speed)
        reps = (dur + 0.5).long()  # KAN-TTS rounds half up (durations are >= 0)
        frame_lengths = reps.sum(dim=1)
        num_steps = torch.div(frame_lengths + (r - 1), r, rounding_mode="floor")
        # KAN-TTS: int(max(duration) / r + 0.5), per item here (it takes the batch max).
        band_width = (dur.max(dim=1).values / r + 0.5).long()
        n_frames = num_steps.max() * r
        frame = torch.arange(n_frames, device=text.device)  # type: ignore[call-overload]
        ends = torch.cumsum(reps, dim=1)
        starts = ends - reps
        unit = (ends[:, None, :] <= frame[None, :, None]).sum(dim=-1)  # [B, F]
        valid = frame[None, :] < frame_lengths[:, None]
        # Frames past the item's end point at its last unit (then zeroed), never out of range.
        unit = torch.minimum(unit, (lengths - 1).clamp(min=0)[:, None])
        text_lr = torch.gather(text, 1, unit[..., None].expand(-1, -1, text.shape[2]))
        text_lr = text_lr.masked_fill(~valid[..., None], 0.0)
        # Position inside the unit, 1-based; 0 on frames past the item's end (the padding to
        # a multiple of r that KAN-TTS adds gets sin(0)/cos(0) = 0/1 there too).
        dur_pos = (frame[None, :] - torch.gather(starts, 1, unit) + 1).masked_fill(~valid, 0)
        text_lr = text_lr + self.variance_adaptor.dur_position_encoder.encode(dur_pos.float())
        b = text.shape[0]
        lfr_text = text_lr.reshape(b, -1, r * text.shape[2])
        # Speaker and emotion of each step's first frame (KAN-TTS slices them so).
        first_unit = unit.reshape(b, -1, r)[:, :, 0]
        first_valid = valid.reshape(b, -1, r)[:, :, 0]
        spk = torch.gather(speaker, 1, first_unit[..., None].expand(-1, -1, speaker.shape[2]))
        emo = torch.gather(emotion, 1, first_unit[..., None].expand(-1, -1, emotion.shape[2]))
        spk = spk.masked_fill(~first_valid[..., None], 0.0)
        emo = emo.masked_fill(~first_valid[..., None], 0.0)
        memory = torch.cat([lfr_text, spk, emo], dim=-1)
        kv = []
        n_head = self.cfg.decoder_num_heads
        d_head = self.cfg.decoder_num_units // n_head
        for layer in self.mel_decoder.mel_dec.layers():
            # [B, N, 2D] -> [2, B, H, N, dh]: split into heads once per batch, not per step.
            heads = layer.pnca_attn.w_h_kv(memory).reshape(b, -1, 2, n_head, d_head)
            kv.append(heads.permute(2, 0, 3, 1, 4))
        return RegulatedOutputs(
            memory, torch.stack(kv, dim=0), frame_lengths, num_steps, band_width
        )

    def decoder_step(
        self,
        step: Tensor,
        prev_frame: Tensor,
        memory: Tensor,
        memory_kv: Tensor,
        past_kv: Tensor,
        band_width: Tensor,
        num_steps: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """One PNCA step for the whole batch.

        step [1] int64; prev_frame [B, d_mel]; memory [B, N, d_mem]; memory_kv
        [L, 2, B, H, >= N + P, dh] (zero-padded so the window below always fits); past_kv
        [L, 2, B, H, P, dh]: the last P steps' self-attention keys/values, oldest first
        (P >= 1, at least the largest band width). Returns (r frames [B, r * d_mel], the next
        past_kv).

        Step a attends its own frame and past steps [a - bw, a - 1] (KAN-TTS's x band) and
        memory rows [a, min(a + bw, N_item - 1)] (its h band), with bw the item's band width.
        Written for a small ONNX graph (2-D activations, head-split caches, no shape
        arithmetic per layer): the per-call overhead dominates one step's compute.
        """
        dec = self.mel_decoder.mel_dec
        n_head = self.cfg.decoder_num_heads
        d_model = self.cfg.decoder_num_units
        d_head = d_model // n_head
        n_past = past_kv.shape[4]
        row = torch.index_select(memory, 1, step).squeeze(1)
        x = dec.dec_in_proj(torch.cat([row, dec.prenet(prev_frame)], dim=-1)) * (d_model**0.5)
        j = torch.arange(n_past, device=memory.device)
        past_step = step - n_past + j  # [P]
        past_ok = (past_step[None, :] >= 0) & (past_step[None, :] >= step - band_width[:, None])
        x_allowed = torch.cat([past_ok, (band_width >= 0)[:, None]], dim=1)[:, None, None, :]
        jh = torch.arange(n_past + 1, device=memory.device)
        h_allowed = (
            (jh[None, :] <= band_width[:, None]) & (step + jh[None, :] < num_steps[:, None])
        ) | (jh[None, :] == 0)  # a finished item keeps one row so its softmax stays finite
        h_allowed = h_allowed[:, None, None, :]
        # Cut the memory band window once per step (all layers), not per layer from the whole.
        h_window = torch.index_select(memory_kv, 4, step + jh)
        scale = math.sqrt(d_head)
        new_kv = []
        for index, layer in enumerate(dec.layers()):
            att = layer.pnca_attn
            qkv = att.w_x_qkv(att.layer_norm(x)).reshape(-1, 3, n_head, d_head)
            q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]  # [B, H, dh]
            new_kv.append(torch.stack([k, v], dim=0))
            q = q[:, :, None, :]
            x_keys = torch.cat([past_kv[index, 0], k[:, :, None, :]], dim=2)
            x_values = torch.cat([past_kv[index, 1], v[:, :, None, :]], dim=2)
            h_keys, h_values = h_window[index, 0], h_window[index, 1]
            out_x = _attend_heads(q, x_keys, x_values, x_allowed, scale).reshape(-1, d_model)
            out_h = _attend_heads(q, h_keys, h_values, h_allowed, scale).reshape(-1, d_model)
            y = att.fc_x(out_x) + att.fc_h(out_h) + x
            ffn = layer.pos_ffn  # kernel (1, 1): position-wise linears
            hidden = F.relu(F.linear(ffn.layer_norm(y), ffn.w_1.weight[:, :, 0], ffn.w_1.bias))
            x = F.linear(hidden, ffn.w_2.weight[:, :, 0], ffn.w_2.bias) + y
        frames = dec.dec_out_proj(dec.ln(x))
        new = torch.stack(new_kv, dim=0)[:, :, :, :, None, :]
        return frames, torch.cat([past_kv[:, :, :, :, 1:], new], dim=4)

    def postnet(self, dec_frames: Tensor, frame_lengths: Tensor) -> Tensor:
        """[B, F, d_mel] decoder frames -> the mel (0 past each item's frame count)."""
        pad = (
            torch.arange(dec_frames.shape[1], device=dec_frames.device)[None, :]
            >= frame_lengths[:, None]
        )
        x = dec_frames.masked_fill(pad[..., None], 0.0)
        post = self.mel_postnet
        h = post.fsmn(x, pad)
        h = _lstm_direction(post.lstm, h, "")
        return (post.fc(h) + x).masked_fill(pad[..., None], 0.0)

    # -- batch-1 reference, structured like KAN-TTS's own inference ---------------------------
    @torch.no_grad()
    def infer_reference(
        self, ling: Tensor, emotion: Tensor, speaker: Tensor, speed: float = 1.0
    ) -> Tensor:
        """One item (units already framed, i.e. without the trailing eos) -> mel [F, d_mel].

        Full self-attention cache and band masks over the whole step range, one-hot length
        regulation, exactly one sequence: an independent check of the batched pieces.
        """
        r = self.r
        t = ling.shape[0]
        lengths = torch.tensor([t])
        enc = self.encode(ling[None], emotion[None], speaker[None], lengths)
        hidden = self.cfg.dur_pred_lstm_units
        h = torch.zeros(2, 1, hidden)
        c = torch.zeros(2, 1, hidden)
        prev = torch.zeros(1, 1)
        log_dur = []
        for i in range(t):
            prev, h, c = self.duration_step(prev, enc.dur_cond[:, i], h, c)
            log_dur.append(prev)
        dur = (torch.exp(torch.cat(log_dur, dim=1)) - 1.0) / speed
        reps = (dur + 0.5).long()[0]
        n_frames = int(reps.sum())
        n_steps = -(-n_frames // r)
        if n_frames == 0:
            return torch.zeros(0, self.cfg.num_mels)
        # One-hot expansion (KAN-TTS's LengthRegulator), then zero padding up to n_steps * r.
        ends = torch.cumsum(reps, 0)
        starts = ends - reps
        frame = torch.arange(n_frames)[:, None]
        onehot = ((starts[None, :] <= frame) & (ends[None, :] > frame)).float()
        pad_rows = n_steps * r - n_frames
        text = F.pad(onehot @ enc.text[0], (0, 0, 0, pad_rows))
        emo = F.pad(onehot @ enc.emotion[0], (0, 0, 0, pad_rows))
        spk = F.pad(onehot @ enc.speaker[0], (0, 0, 0, pad_rows))
        dur_pos = F.pad(frame[:, 0].float() - onehot @ starts.float() + 1.0, (0, pad_rows))
        text = text + self.variance_adaptor.dur_position_encoder.encode(dur_pos[None])[0]
        memory = torch.cat(
            [
                text.reshape(n_steps, -1),
                spk.reshape(n_steps, -1)[:, : spk.shape[1]],
                emo.reshape(n_steps, -1)[:, : emo.shape[1]],
            ],
            dim=-1,
        )[None]
        band = int(dur.max() / r + 0.5)
        dec = self.mel_decoder.mel_dec
        steps = torch.arange(n_steps)
        keys_per_layer = [layer.pnca_attn.w_h_kv(memory).chunk(2, dim=-1) for layer in dec.layers()]
        x_cache: list[list[Tensor]] = [[] for _ in dec.pnca]
        frames_out = []
        prev_frame = torch.zeros(1, self.cfg.num_mels)
        for step in range(n_steps):
            x = dec.step_input(prev_frame, memory[:, step])
            x_allowed = (steps[: step + 1] >= step - band)[None, None, :]
            h_allowed = ((steps >= step) & (steps <= step + band))[None, None, :]
            for index, layer in enumerate(dec.layers()):
                att = layer.pnca_attn
                q, k, v = att.w_x_qkv(att.layer_norm(x)).chunk(3, dim=-1)
                x_cache[index].append(torch.stack([k, v]))
                cache = torch.cat(x_cache[index], dim=2)
                hk, hv = keys_per_layer[index]
                x = layer.attend_step(x, cache[0], cache[1], x_allowed, hk, hv, h_allowed, q)
            out = dec.dec_out_proj(dec.ln(x))[:, 0, :]
            frames_out.append(out)
            prev_frame = out[:, -self.cfg.num_mels :]
        dec_frames = torch.cat(frames_out, dim=0).reshape(1, n_steps * r, self.cfg.num_mels)
        mel = self.postnet(dec_frames, torch.tensor([n_frames]))
        return mel[0, :n_frames]


def synthesize_torch(model: SambertModel, item: SambertItem) -> np.ndarray:
    """The torch reference for one item (same framing as the runner): mel [F, num_mels]."""
    ling, emotion, speaker = model_units(item)
    mel = model.infer_reference(
        torch.from_numpy(ling), torch.from_numpy(emotion), torch.from_numpy(speaker), item.speed
    )
    return mel.numpy()
