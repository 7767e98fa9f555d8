"""The mel bridge: acoustic mel (normalized, 24 kHz / 12.5 ms) -> vocoder mel (16 kHz / 10 ms, ln).

A per-frame affine map (80 -> 80) plus a small residual conv stack, both at the acoustic
frame rate, then linear interpolation onto the vocoder's 10 ms frame grid. Padded frames
are zeroed before every conv and interpolation never reads past an item's own last frame,
so a padded batch gives each item what it would get alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from mandarin_tts.contract import (
    ACOUSTIC_HOP,
    ACOUSTIC_SAMPLE_RATE,
    N_MELS,
    OUTPUT_SAMPLE_RATE,
    VOCODER_HOP,
)

BRIDGE_PARAMS = Path(__file__).resolve().parent / "bridge_params.npz"

# Frame durations as exact fractions: 12.5 ms = 5/4 of 10 ms, so 4 acoustic frames make
# 5 vocoder frames and each acoustic frame lasts SAMPLES_PER_ACOUSTIC_FRAME output samples.
_ACOUSTIC_FRAME_NUM = ACOUSTIC_HOP * OUTPUT_SAMPLE_RATE  # 12.5 ms in units of 1 / (sr * sr')
_VOCODER_FRAME_DEN = VOCODER_HOP * ACOUSTIC_SAMPLE_RATE
SAMPLES_PER_ACOUSTIC_FRAME = ACOUSTIC_HOP * OUTPUT_SAMPLE_RATE // ACOUSTIC_SAMPLE_RATE  # 200


@dataclass(frozen=True)
class BridgeConfig:
    n_mels: int = N_MELS
    hidden: int = 128
    kernel: int = 5
    layers: int = 3


FrameCount = TypeVar("FrameCount", int, torch.Tensor)


def vocoder_frames(acoustic_frames: FrameCount) -> FrameCount:
    """ceil(acoustic_frames * 12.5 ms / 10 ms) as integer arithmetic (works in ONNX)."""
    return (acoustic_frames * _ACOUSTIC_FRAME_NUM + _VOCODER_FRAME_DEN - 1) // _VOCODER_FRAME_DEN


def _mask_beyond(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    steps = torch.arange(x.shape[-1], device=x.device)
    keep = steps.unsqueeze(0) < lengths.unsqueeze(1)
    return x * keep.unsqueeze(1).to(x.dtype)


def interpolate_to_vocoder_frames(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """[B, C, T] at 12.5 ms -> [B, C, ceil(1.25 T)] at 10 ms, linear, clamped per item.

    Acoustic frame i is centred at i * 12.5 ms (centred STFT); vocoder frame j covers
    [j * 10, (j + 1) * 10) ms, centred at j * 10 + 5 ms, i.e. acoustic position 0.8 j + 0.4.
    """
    n_out = vocoder_frames(x.shape[-1])  # traced as shape arithmetic: stays dynamic
    ratio = _VOCODER_FRAME_DEN / _ACOUSTIC_FRAME_NUM  # 0.8
    position = (torch.arange(n_out, device=x.device).to(x.dtype) + 0.5) * ratio
    last = (lengths - 1).clamp(min=0).unsqueeze(1).to(x.dtype)  # [B, 1]
    position = torch.minimum(position.unsqueeze(0), last)  # [B, T_out]
    lower = torch.floor(position)
    weight = (position - lower).unsqueeze(1)  # [B, 1, T_out]
    upper = torch.minimum(lower + 1, last)
    channels = x.shape[1]
    lower_idx = lower.long().unsqueeze(1).expand(-1, channels, -1)
    upper_idx = upper.long().unsqueeze(1).expand(-1, channels, -1)
    return torch.gather(x, 2, lower_idx) * (1 - weight) + torch.gather(x, 2, upper_idx) * weight


class MelBridge(nn.Module):
    """mel [B, T, 80] (acoustic space) + lengths [B] -> vocoder mel [B, 80, ceil(1.25 T)]."""

    def __init__(self, config: BridgeConfig | None = None) -> None:
        super().__init__()
        self.config = config or BridgeConfig()
        cfg = self.config
        self.affine = nn.Conv1d(cfg.n_mels, cfg.n_mels, 1)
        widths = [cfg.n_mels] + [cfg.hidden] * (cfg.layers - 1) + [cfg.n_mels]
        self.convs = nn.ModuleList(
            nn.Conv1d(c_in, c_out, cfg.kernel, padding=cfg.kernel // 2)
            for c_in, c_out in zip(widths[:-1], widths[1:], strict=True)
        )

    def start_from_affine(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Set the affine part ([80, 80] weight, [80] bias) and zero the conv residual's output."""
        last = self.convs[-1]
        assert isinstance(last, nn.Conv1d) and last.bias is not None
        assert self.affine.bias is not None
        with torch.no_grad():
            self.affine.weight.copy_(weight[:, :, None])
            self.affine.bias.copy_(bias)
            last.weight.zero_()
            last.bias.zero_()

    def acoustic_rate(self, mel: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The mapped mel, still on the 12.5 ms grid: [B, 80, T]."""
        x = _mask_beyond(mel.transpose(1, 2), lengths)
        residual = x
        for index, conv in enumerate(self.convs):
            residual = conv(_mask_beyond(residual, lengths))
            if index < len(self.convs) - 1:
                residual = F.leaky_relu(residual, 0.1)
        return self.affine(x) + residual

    def forward(self, mel: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return interpolate_to_vocoder_frames(self.acoustic_rate(mel, lengths), lengths)

    # --- committed parameters ----------------------------------------------------------
    def save_params(self, path: Path = BRIDGE_PARAMS, **metadata: str) -> None:
        arrays = {
            k: v.detach().cpu().numpy().astype(np.float32) for k, v in self.state_dict().items()
        }
        config = {f"config.{k}": np.array(v) for k, v in asdict(self.config).items()}
        meta = {f"meta.{k}": np.array(v) for k, v in metadata.items()}
        named: dict[str, Any] = {**arrays, **config, **meta}  # numpy 2's stubs: see savez
        np.savez_compressed(path, **named)

    @classmethod
    def load_params(cls, path: Path = BRIDGE_PARAMS) -> MelBridge:
        with np.load(path) as data:
            config = BridgeConfig(
                **{k.split(".", 1)[1]: int(data[k]) for k in data.files if k.startswith("config.")}
            )
            state = {
                k: torch.from_numpy(data[k])
                for k in data.files
                if not k.startswith(("config.", "meta."))
            }
        bridge = cls(config)
        bridge.load_state_dict(state, strict=True)
        return bridge.eval()


def load_metadata(path: Path = BRIDGE_PARAMS) -> dict[str, str]:
    with np.load(path) as data:
        return {k.split(".", 1)[1]: str(data[k]) for k in data.files if k.startswith("meta.")}
