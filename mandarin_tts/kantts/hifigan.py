"""KAN-TTS HiFi-GAN generator (ModelScope Sambert-HiFiGAN voices), for inference.

Our own implementation of the architecture KAN-TTS trains (kantts/models/hifigan), with
the same parameter names so `torch.load(voc ckpt)["model"]["generator"]` loads directly
once weight norm is folded. Per upsampling stage i:

    x = sin(x) + x
    x = repeat_path(x) + transpose_path(x)[..., :len(repeat_path(x))]
    x = mean over the resblocks of stage i of resblock(x)

with repeat_path = nearest x s_i -> LeakyReLU -> conv(k=kernel_size) and transpose_path =
LeakyReLU -> ConvTranspose1d(k_i, stride s_i). After the stages: LeakyReLU with torch's
default slope 0.01 (not the config's 0.1: KAN-TTS calls F.leaky_relu without a slope),
conv_post, tanh. Convs are causal (left padding only, transposed convs cropped at the end)
when the config says `causal: true`, centred otherwise.

The mel goes in as the acoustic model's postnet output [T, num_mels] transposed to
[B, num_mels, T]; ModelScope's voice.py applies no mean/variance normalisation between
the two models (am/mvn.npy holds f0 statistics for NSF voices only).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from mandarin_tts.kantts.checkpoint import (
    fold_weight_norm,
    read_checkpoint,
    state_dict_at,
    state_dict_problems,
)
from mandarin_tts.kantts.errors import KanttsCheckpointError
from mandarin_tts.kantts.voc_config import (  # noqa: F401  (re-exported)
    HifiganConfig,
    KanttsVocoderConfigError,
    load_hifigan_config,
    parse_hifigan_config,
)
from mandarin_tts.vocoder.hifigan import fuse_receptive_fields

FINAL_SLOPE = 0.01  # F.leaky_relu's default, used before conv_post


def _mask(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Zero x [B, C, T] at steps >= each item's length (what a lone item's padding is)."""
    if lengths is None:
        return x
    keep = torch.arange(x.shape[-1], device=x.device).unsqueeze(0) < lengths.unsqueeze(1)
    return x * keep.unsqueeze(1).to(x.dtype)


class _Conv(nn.Module):
    """Stride-1 conv; causal: pad (k-1)*d zeros on the left only, else centred padding."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, causal: bool) -> None:
        super().__init__()
        reach = (kernel - 1) * dilation
        self.left = reach if causal else 0
        self.conv1d = nn.Conv1d(
            c_in, c_out, kernel, dilation=dilation, padding=0 if causal else reach // 2
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.left:
            x = F.pad(x, (self.left, 0))
        return self.conv1d(x)


class _Deconv(nn.Module):
    """Transposed conv giving exactly T * scale steps (causal: the tail is cropped)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, scale: int, causal: bool) -> None:
        super().__init__()
        self.crop = kernel - scale if causal else 0
        self.deconv = nn.ConvTranspose1d(
            c_in, c_out, kernel, scale, padding=0 if causal else (kernel - scale) // 2
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.deconv(x)
        return y[..., : y.shape[-1] - self.crop] if self.crop else y


class _Nearest(nn.Module):
    """Nearest-neighbour upsampling by an integer factor (exact, export-friendly)."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t = x.shape
        return x.unsqueeze(-1).expand(b, c, t, self.scale).reshape(b, c, t * self.scale)


class _ResBlock(nn.Module):
    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...], causal: bool,
                 slope: float) -> None:  # fmt: skip
        super().__init__()
        self.slope = slope
        self.convs1 = nn.ModuleList(_Conv(channels, channels, kernel, d, causal) for d in dilations)
        self.convs2 = nn.ModuleList(_Conv(channels, channels, kernel, 1, causal) for _ in dilations)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        for conv1, conv2 in zip(self.convs1, self.convs2, strict=True):
            y = conv1(_mask(F.leaky_relu(x, self.slope), lengths))
            y = conv2(_mask(F.leaky_relu(y, self.slope), lengths))
            x = x + y
        return x


class KanttsHifiganGenerator(nn.Module):
    """mel [B, num_mels, T] -> audio [B, 1, T * hop] in [-1, 1].

    `frame_lengths` [B] makes a padded batch give each item the audio it gets alone: conv
    inputs past each length are zeroed before every conv. Causal models need no masks
    (nothing looks right), so `needs_masks` is False for them and lengths are ignored.
    """

    def __init__(self, config: HifiganConfig) -> None:
        super().__init__()
        self.config = config
        cfg = config
        slope = cfg.negative_slope
        self.conv_pre = _Conv(cfg.num_mels, cfg.channels, cfg.kernel_size, 1, cfg.causal)
        self.transpose_upsamples = nn.ModuleList()
        self.repeat_upsamples = nn.ModuleList()
        self.conv_blocks = nn.ModuleList()
        channels = cfg.channels
        for scale, kernel in zip(cfg.upsample_scales, cfg.upsample_kernel_sizes, strict=True):
            # Sequential indices match KAN-TTS's names: transpose_upsamples.i.1.deconv,
            # repeat_upsamples.i.2.conv1d.
            self.transpose_upsamples.append(
                nn.Sequential(
                    nn.LeakyReLU(slope),
                    _Deconv(channels, channels // 2, kernel, scale, cfg.causal),
                )
            )
            self.repeat_upsamples.append(
                nn.Sequential(
                    _Nearest(scale),
                    nn.LeakyReLU(slope),
                    _Conv(channels, channels // 2, cfg.kernel_size, 1, cfg.causal),
                )
            )
            channels //= 2
            for res_kernel, dilations in zip(
                cfg.resblock_kernel_sizes, cfg.resblock_dilations, strict=True
            ):
                self.conv_blocks.append(
                    _ResBlock(channels, res_kernel, dilations, cfg.causal, slope)
                )
        self.conv_post = _Conv(channels, 1, cfg.kernel_size, 1, cfg.causal)

    @property
    def needs_masks(self) -> bool:
        return not self.config.causal

    def forward(self, mel: torch.Tensor, frame_lengths: torch.Tensor | None = None) -> torch.Tensor:
        lengths = frame_lengths if self.needs_masks else None
        x = self.conv_pre(_mask(mel, lengths))
        n_kernels = len(self.config.resblock_kernel_sizes)
        for stage, scale in enumerate(self.config.upsample_scales):
            x = _mask(torch.sin(x) + x, lengths)
            rep = self.repeat_upsamples[stage](x)
            up = self.transpose_upsamples[stage](x)
            x = rep + up[..., : rep.shape[-1]]
            lengths = None if lengths is None else lengths * scale
            blocks = self.conv_blocks[stage * n_kernels : (stage + 1) * n_kernels]
            x = fuse_receptive_fields(blocks, x, lengths)
        x = self.conv_post(_mask(F.leaky_relu(x, FINAL_SLOPE), lengths))
        return torch.tanh(x)


def load_generator_state(
    generator: KanttsHifiganGenerator, state: Mapping[str, torch.Tensor], source: str
) -> None:
    """Strict load of a (weight-norm folded) state dict, naming keys and shapes that differ."""
    folded = fold_weight_norm(state)
    expected = generator.state_dict()
    problems = state_dict_problems(expected, folded)
    if problems:
        hint = ""
        if any(k.startswith(("source_module.", "source_downs.")) for k in folded):
            hint = " (the checkpoint is an NSF vocoder: not supported)"
        raise KanttsCheckpointError(
            f"{source}: generator weights do not match {generator.config.source}: "
            + "; ".join(problems)
            + hint
        )
    generator.load_state_dict({k: v.to(expected[k].dtype) for k, v in folded.items()})


def load_hifigan(config_path: Path, checkpoint_path: Path) -> KanttsHifiganGenerator:
    """voc/config.yaml + voc/ckpt/checkpoint_N.pth -> our generator in eval mode."""
    config = load_hifigan_config(config_path)
    checkpoint_path = Path(checkpoint_path)
    data = read_checkpoint(checkpoint_path)
    state = state_dict_at(data, ("model", "generator"), checkpoint_path)
    generator = KanttsHifiganGenerator(config)
    load_generator_state(generator, state, str(checkpoint_path))
    return generator.eval()
