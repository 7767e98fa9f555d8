"""Audio container formats: 16-bit PCM WAV (default, also streamable), raw PCM, and FLAC /
OGG Vorbis / OGG Opus through soundfile.

Audio keeps its voice's sample rate (16 kHz or 24 kHz; X-Sample-Rate says which), except
where a format cannot carry that rate: Opus takes only 8/12/16/24/48 kHz, so other rates are
resampled to 48 kHz."""

from __future__ import annotations

import enum
import io
import struct

import numpy as np
import soundfile as sf

from frontend.assembly import to_pcm16

UNKNOWN_SIZE = 0xFFFFFFFF  # streaming WAV: sizes are not known when the header goes out


class AudioFormat(enum.Enum):
    WAV = "wav"
    FLAC = "flac"
    OGG = "ogg"  # OGG Vorbis
    OPUS = "opus"  # OGG Opus
    PCM = "pcm"  # raw 16-bit little-endian mono

    @property
    def content_type(self) -> str:
        return {
            AudioFormat.WAV: "audio/wav",
            AudioFormat.FLAC: "audio/flac",
            AudioFormat.OGG: "audio/ogg",
            AudioFormat.OPUS: "audio/ogg; codecs=opus",
            AudioFormat.PCM: "application/octet-stream",
        }[self]

    @property
    def streamable(self) -> bool:
        return self in (AudioFormat.WAV, AudioFormat.PCM)


OPUS_RATES = frozenset({8_000, 12_000, 16_000, 24_000, 48_000})
OPUS_FALLBACK_RATE = 48_000


def encoded_rate(sample_rate: int, fmt: AudioFormat) -> int:
    """The sample rate of `fmt` audio made from `sample_rate` audio."""
    if fmt is AudioFormat.OPUS and sample_rate not in OPUS_RATES:
        return OPUS_FALLBACK_RATE
    return sample_rate


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (band-limited), float32 in [-1, 1]."""
    if from_rate == to_rate:
        return np.asarray(audio, np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(from_rate, to_rate)
    out = resample_poly(np.asarray(audio, np.float64), to_rate // g, from_rate // g)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


_SOUNDFILE_FORMATS = {
    AudioFormat.FLAC: ("FLAC", "PCM_16"),
    AudioFormat.OGG: ("OGG", "VORBIS"),
    AudioFormat.OPUS: ("OGG", "OPUS"),
}


def wav_header(num_samples: int | None, sample_rate: int) -> bytes:
    """44-byte header of a mono 16-bit PCM WAV; `None` samples -> unknown (streaming) size."""
    if num_samples is None:
        data_size = riff_size = UNKNOWN_SIZE
    else:
        data_size = num_samples * 2
        riff_size = 36 + data_size
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        riff_size,
        b"WAVE",
        b"fmt ",
        16,  # fmt chunk size
        1,  # PCM
        1,  # mono
        sample_rate,
        sample_rate * 2,  # byte rate
        2,  # block align
        16,  # bits per sample
        b"data",
        data_size,
    )


def encode(audio: np.ndarray, sample_rate: int, fmt: AudioFormat) -> bytes:
    """Whole-file encoding of float audio in [-1, 1]."""
    if fmt is AudioFormat.WAV:
        return wav_header(int(audio.size), sample_rate) + to_pcm16(audio)
    if fmt is AudioFormat.PCM:
        return to_pcm16(audio)
    container, subtype = _SOUNDFILE_FORMATS[fmt]
    rate = encoded_rate(sample_rate, fmt)
    audio = resample(audio, sample_rate, rate)
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(audio, np.float32), rate, format=container, subtype=subtype)
    return buffer.getvalue()
