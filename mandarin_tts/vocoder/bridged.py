"""The full vocoder graph: acoustic mel + lengths -> 16 kHz audio + exact audio lengths."""

from __future__ import annotations

import torch
from torch import nn

from mandarin_tts.vocoder.bridge import SAMPLES_PER_ACOUSTIC_FRAME, MelBridge, vocoder_frames
from mandarin_tts.vocoder.hifigan import HiFiGANGenerator


class BridgedVocoder(nn.Module):
    """mel [B, T, 80] (acoustic space), mel_lengths [B] -> audio [B, 200 T], lengths [B].

    Each item's audio lasts exactly as long as its mel (200 samples per 12.5 ms frame);
    samples past an item's length are zero. With `pad_masks=False` the generator skips
    the masks that make padded batches exact (about 20 % of the int8 model's time): the
    result is identical for a lone item or for items of equal length, and wrong near the
    end of the shorter items of a padded batch.
    """

    def __init__(
        self, bridge: MelBridge, generator: HiFiGANGenerator, pad_masks: bool = True
    ) -> None:
        super().__init__()
        self.bridge = bridge
        self.generator = generator
        self.pad_masks = pad_masks

    def forward(
        self, mel: torch.Tensor, mel_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        vocoder_mel = self.bridge(mel, mel_lengths)
        frame_lengths = vocoder_frames(mel_lengths) if self.pad_masks else None
        audio = self.generator(vocoder_mel, frame_lengths)[:, 0]
        n_samples = mel.shape[1] * SAMPLES_PER_ACOUSTIC_FRAME
        audio = audio[:, :n_samples]
        audio_lengths = mel_lengths * SAMPLES_PER_ACOUSTIC_FRAME
        if not self.pad_masks:
            return audio, audio_lengths
        keep = torch.arange(n_samples, device=mel.device).unsqueeze(0) < audio_lengths.unsqueeze(1)
        return audio * keep.to(audio.dtype), audio_lengths
