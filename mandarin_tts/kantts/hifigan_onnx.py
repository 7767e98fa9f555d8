"""ONNX export of a KAN-TTS HiFi-GAN generator with the project's vocoder interface.

Inputs `mel` [B, T, num_mels] float32 (the Sambert postnet mel, frames first, as KAN-TTS
passes it before its transpose) and `mel_lengths` [B] int64; outputs `audio` [B, T * hop]
float32 and `audio_lengths` [B] int64 (= mel_lengths * hop). Samples past an item's
length are zero. A padded batch gives every item the audio it gets alone: causal models
need no masks for that, non-causal ones zero each conv input past the item's length.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from mandarin_tts.contract import ONNX_META_PAD_SAFE
from mandarin_tts.kantts.hifigan import KanttsHifiganGenerator
from mandarin_tts.onnx_export import EXPORTER_WARNINGS
from mandarin_tts.vocoder.export import export_vocoder_interface

META_HOP = "hop"
META_SAMPLE_RATE = "sample_rate"
META_SOURCE = "kantts_voc_config"


class HifiganOnnxModule(nn.Module):
    """(mel [B, T, C], mel_lengths [B]) -> (audio [B, T * hop], audio_lengths [B])."""

    def __init__(self, generator: KanttsHifiganGenerator) -> None:
        super().__init__()
        self.generator = generator.eval()
        self.hop = generator.config.hop

    def forward(
        self, mel: torch.Tensor, mel_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        audio = self.generator(mel.transpose(1, 2), mel_lengths)[:, 0, :]
        audio_lengths = mel_lengths * self.hop
        steps = torch.arange(audio.shape[-1], device=audio.device).unsqueeze(0)
        audio = audio * (steps < audio_lengths.unsqueeze(1)).to(audio.dtype)
        return audio, audio_lengths


def export_hifigan_onnx(generator: KanttsHifiganGenerator, path: Path) -> Path:
    """Write the generator as ONNX to `path` (atomically) and return the path."""
    cfg = generator.config
    props = {ONNX_META_PAD_SAFE: "true", META_HOP: str(cfg.hop), META_SOURCE: cfg.source}
    if cfg.sampling_rate is not None:
        props[META_SAMPLE_RATE] = str(cfg.sampling_rate)
    module = HifiganOnnxModule(generator).eval()
    return export_vocoder_interface(
        module, (12, 7), cfg.num_mels, Path(path), props, EXPORTER_WARNINGS
    )
