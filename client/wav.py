"""Small WAV helpers for the client (streamed headers carry unknown sizes)."""

from __future__ import annotations

import struct


def fix_wav_sizes(wav: bytes) -> bytes:
    """Write the real RIFF and data sizes into a 44-byte-header PCM WAV."""
    if len(wav) < 44 or wav[:4] != b"RIFF" or wav[36:40] != b"data":
        return wav
    return (
        wav[:4]
        + struct.pack("<I", len(wav) - 8)
        + wav[8:40]
        + struct.pack("<I", len(wav) - 44)
        + wav[44:]
    )
