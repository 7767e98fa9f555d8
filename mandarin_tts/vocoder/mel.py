"""The HiFi-GAN vocoder's own mel analysis (16 kHz, 10 ms hop, ln magnitude).

Used to turn reference audio into fitting targets for the mel bridge, and by tests.
Frame j summarises the window centred on sample j * hop + hop / 2 (the audio is
reflect-padded by (n_fft - hop) / 2 on each side, no STFT centering), so N samples give
exactly N / hop frames, aligned with the samples the generator produces for that frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch.nn import functional as F

from mandarin_tts.contract import (
    N_MELS,
    OUTPUT_SAMPLE_RATE,
    VOCODER_FMAX,
    VOCODER_FMIN,
    VOCODER_HOP,
    VOCODER_LOG_CLAMP,
    VOCODER_N_FFT,
    VOCODER_WIN,
)


@dataclass(frozen=True)
class VocoderMelConfig:
    sample_rate: int = OUTPUT_SAMPLE_RATE
    n_fft: int = VOCODER_N_FFT
    win_length: int = VOCODER_WIN
    hop: int = VOCODER_HOP
    n_mels: int = N_MELS
    fmin: float = VOCODER_FMIN
    fmax: float = VOCODER_FMAX
    log_clamp: float = VOCODER_LOG_CLAMP


def _hz_to_slaney_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's scale: linear (3 mels per 200 Hz) below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3.0)
    log_step = np.log(6.4) / 27.0
    logarithmic = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / log_step
    return np.where(hz >= 1000.0, logarithmic, linear)


def _slaney_mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * (200.0 / 3.0)
    log_step = np.log(6.4) / 27.0
    logarithmic = 1000.0 * np.exp(log_step * (mel - 15.0))
    return np.where(mel >= 15.0, logarithmic, linear)


@cache
def mel_filterbank(config: VocoderMelConfig = VocoderMelConfig()) -> np.ndarray:
    """Triangular Slaney-normalised filters [n_mels, n_fft // 2 + 1] (area-normalised)."""
    fft_hz = np.linspace(0.0, config.sample_rate / 2.0, config.n_fft // 2 + 1)
    mel_edges = np.linspace(
        _hz_to_slaney_mel(np.array(config.fmin)),
        _hz_to_slaney_mel(np.array(config.fmax)),
        config.n_mels + 2,
    )
    hz_edges = _slaney_mel_to_hz(mel_edges)
    widths = np.diff(hz_edges)
    offsets = hz_edges[:, None] - fft_hz[None, :]
    rising = -offsets[:-2] / widths[:-1, None]
    falling = offsets[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (hz_edges[2:] - hz_edges[:-2]))[:, None]
    return weights.astype(np.float32)


def vocoder_mel(audio: np.ndarray, config: VocoderMelConfig = VocoderMelConfig()) -> np.ndarray:
    """16 kHz mono float audio [N] -> ln-magnitude mel [N // hop, n_mels]."""
    signal = torch.as_tensor(np.asarray(audio, dtype=np.float32)).reshape(1, 1, -1)
    pad = (config.n_fft - config.hop) // 2
    signal = F.pad(signal, (pad, pad), mode="reflect").reshape(1, -1)
    spec = torch.stft(
        signal,
        n_fft=config.n_fft,
        hop_length=config.hop,
        win_length=config.win_length,
        window=torch.hann_window(config.win_length),
        center=False,
        return_complex=True,
    )
    magnitude = spec.abs()[0]  # [freq, frames]
    mel = torch.as_tensor(mel_filterbank(config)) @ magnitude
    return torch.log(torch.clamp(mel, min=config.log_clamp)).T.numpy()
