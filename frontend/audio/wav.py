"""WAV headers: 16-bit PCM (44 bytes) and 8-bit G.711 (WAVE_FORMAT_ALAW/MULAW, with the `fact`
chunk that non-PCM WAV files carry).  `None` samples -> unknown sizes, for streaming."""

from __future__ import annotations

import struct

UNKNOWN_SIZE = 0xFFFFFFFF  # streaming WAV: sizes are not known when the header goes out
WAVE_FORMAT_PCM = 1
WAVE_FORMAT_ALAW = 6
WAVE_FORMAT_MULAW = 7


def wav_header(num_samples: int | None, sample_rate: int) -> bytes:
    """44-byte header of a mono 16-bit PCM WAV."""
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
        WAVE_FORMAT_PCM,
        1,  # mono
        sample_rate,
        sample_rate * 2,  # byte rate
        2,  # block align
        16,  # bits per sample
        b"data",
        data_size,
    )


def g711_wav_header(num_samples: int | None, sample_rate: int, format_tag: int) -> bytes:
    """58-byte header of a mono 8-bit G.711 WAV (one byte per sample)."""
    if num_samples is None:
        data_size = riff_size = samples = UNKNOWN_SIZE
    else:
        data_size = samples = num_samples
        # An odd data chunk is followed by a pad byte (RIFF chunks are word-aligned).
        riff_size = 4 + (8 + 18) + (8 + 4) + (8 + data_size + data_size % 2)
    return struct.pack(
        "<4sI4s4sIHHIIHHH4sII4sI",
        b"RIFF",
        riff_size,
        b"WAVE",
        b"fmt ",
        18,  # fmt chunk size: WAVEFORMATEX with cbSize
        format_tag,
        1,  # mono
        sample_rate,
        sample_rate,  # byte rate
        1,  # block align
        8,  # bits per sample
        0,  # cbSize
        b"fact",
        4,
        samples,
        b"data",
        data_size,
    )
