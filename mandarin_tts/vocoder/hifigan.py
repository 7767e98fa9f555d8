"""HiFi-GAN V1-type generator (16 kHz, hop 160) as a plain PyTorch module.

Weight norm is already folded into plain conv weights, so the module holds ordinary
`Conv1d` / `ConvTranspose1d` layers whose state-dict keys match the pretrained
TorchScript file. With `frame_lengths`, every conv input beyond an item's length is
zeroed, which reproduces the zero padding a lone item sees at its end: a padded batch
then gives each item exactly the audio it would get alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from mandarin_tts.contract import N_MELS, VOCODER_HOP

LRELU_SLOPE = 0.1


@dataclass(frozen=True)
class HiFiGANConfig:
    n_mels: int = N_MELS
    initial_channels: int = 512
    upsample_rates: tuple[int, ...] = (8, 5, 2, 2)
    upsample_kernels: tuple[int, ...] = (16, 10, 4, 4)
    resblock_kernels: tuple[int, ...] = (3, 7, 11)
    resblock_dilations: tuple[int, ...] = (1, 3, 5)

    @property
    def hop(self) -> int:
        return math.prod(self.upsample_rates)


def fuse_receptive_fields(
    blocks: nn.ModuleList, x: torch.Tensor, lengths: torch.Tensor | None
) -> torch.Tensor:
    """HiFi-GAN's multi-receptive-field fusion: the mean of one stage's resblocks (one per
    kernel size) applied to the same input."""
    total = blocks[0](x, lengths)
    for block in blocks[1:]:
        total = total + block(x, lengths)
    return total / len(blocks)


def _mask_beyond(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Zero the time steps of x [B, C, T] at or beyond each item's length."""
    if lengths is None:
        return x
    steps = torch.arange(x.shape[-1], device=x.device)
    keep = steps.unsqueeze(0) < lengths.unsqueeze(1)
    return x * keep.unsqueeze(1).to(x.dtype)


class ResBlock(nn.Module):
    """Three dilated conv pairs with residual connections (HiFi-GAN 'ResBlock1')."""

    def __init__(self, channels: int, kernel: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=d, padding=d * (kernel - 1) // 2)
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=(kernel - 1) // 2) for _ in dilations
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        for conv1, conv2 in zip(self.convs1, self.convs2, strict=True):
            y = conv1(_mask_beyond(F.leaky_relu(x, LRELU_SLOPE), lengths))
            y = conv2(_mask_beyond(F.leaky_relu(y, LRELU_SLOPE), lengths))
            x = x + y
        return x


class HiFiGANGenerator(nn.Module):
    """mel [B, n_mels, T] (ln magnitude, 10 ms frames) -> audio [B, 1, T * hop]."""

    def __init__(self, config: HiFiGANConfig | None = None) -> None:
        super().__init__()
        self.config = config or HiFiGANConfig()
        cfg = self.config
        if cfg.hop != VOCODER_HOP:
            raise ValueError(f"upsample rates give hop {cfg.hop}, contract says {VOCODER_HOP}")
        self.conv_pre = nn.Conv1d(cfg.n_mels, cfg.initial_channels, 7, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        channels = cfg.initial_channels
        for rate, kernel in zip(cfg.upsample_rates, cfg.upsample_kernels, strict=True):
            # Padding and output padding chosen so each stage yields exactly rate * T steps.
            padding = (kernel - rate + 1) // 2
            output_padding = 2 * padding - (kernel - rate)
            self.ups.append(
                nn.ConvTranspose1d(
                    channels,
                    channels // 2,
                    kernel,
                    stride=rate,
                    padding=padding,
                    output_padding=output_padding,
                )
            )
            channels //= 2
            for res_kernel in cfg.resblock_kernels:
                self.resblocks.append(ResBlock(channels, res_kernel, cfg.resblock_dilations))
        self.conv_post = nn.Conv1d(channels, 1, 7, padding=3)

    def forward(self, mel: torch.Tensor, frame_lengths: torch.Tensor | None = None) -> torch.Tensor:
        lengths = frame_lengths
        x = self.conv_pre(_mask_beyond(mel, lengths))
        n_kernels = len(self.config.resblock_kernels)
        for stage, (up, rate) in enumerate(zip(self.ups, self.config.upsample_rates, strict=True)):
            x = up(_mask_beyond(F.leaky_relu(x, LRELU_SLOPE), lengths))
            lengths = None if lengths is None else lengths * rate
            blocks = self.resblocks[stage * n_kernels : (stage + 1) * n_kernels]
            x = fuse_receptive_fields(blocks, x, lengths)
        # The pretrained graph uses the default slope (0.01) before the output conv.
        x = self.conv_post(_mask_beyond(F.leaky_relu(x), lengths))
        return torch.tanh(x)
