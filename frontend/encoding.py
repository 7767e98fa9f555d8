"""Audio container formats: 16-bit PCM WAV (default, also streamable), raw PCM, and FLAC /
OGG Vorbis / OGG Opus through soundfile."""

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
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(audio, np.float32), sample_rate, format=container, subtype=subtype)
    return buffer.getvalue()
