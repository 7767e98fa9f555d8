"""Small WAV helpers for the client (streamed headers carry unknown sizes)."""

from __future__ import annotations

import struct

UNKNOWN_SIZE = 0xFFFFFFFF


def fix_wav_sizes(wav: bytes) -> bytes:
    """Write the real RIFF and data sizes (and the fact chunk's sample count of an 8-bit
    G.711 WAV) into a streamed WAV whose header says 'unknown'; anything else unchanged."""
    if len(wav) < 12 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        return wav
    out = bytearray(wav)
    offset, fact, block = 12, None, 1
    while offset + 8 <= len(out):
        kind = bytes(out[offset : offset + 4])
        size = struct.unpack_from("<I", out, offset + 4)[0]
        if kind == b"fmt " and offset + 22 <= len(out):
            block = max(1, struct.unpack_from("<H", out, offset + 20)[0])
        if kind == b"fact":
            fact = offset + 8
        if kind == b"data":
            data_size = len(out) - offset - 8
            struct.pack_into("<I", out, offset + 4, data_size)
            struct.pack_into("<I", out, 4, len(out) - 8)
            if fact is not None and fact + 4 <= len(out):
                struct.pack_into("<I", out, fact, data_size // block)
            return bytes(out)
        if size == UNKNOWN_SIZE:
            return wav
        offset += 8 + size + size % 2
    return wav
