"""G.711 mu-law and A-law companding of 16-bit PCM, as lookup tables over every int16 value.

The segment rules are ITU-T G.711's (the classic public-domain formulation): mu-law on 14-bit
magnitudes with a bias of 33, A-law on 13-bit magnitudes; both invert the code bits as the
standard prescribes."""

from __future__ import annotations

import numpy as np

_INT16 = np.arange(-32768, 32768, dtype=np.int32)
_ULAW_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEGMENT_ENDS = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
_ULAW_CLIP = 8159  # largest 14-bit magnitude before the bias


def _ulaw_table() -> np.ndarray:
    value = _INT16 >> 2  # 14 bits
    mask = np.where(value < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(value), _ULAW_CLIP) + 33
    segment = np.searchsorted(_ULAW_SEGMENT_ENDS, magnitude, side="left")
    mantissa = (magnitude >> (segment + 1)) & 0x0F
    code = np.where(segment >= 8, 0x7F, (segment << 4) | mantissa)  # full scale: largest code
    return ((code ^ mask) & 0xFF).astype(np.uint8)


def _alaw_table() -> np.ndarray:
    value = _INT16 >> 3  # 13 bits
    negative = value < 0
    mask = np.where(negative, 0x55, 0xD5)
    magnitude = np.where(negative, -value - 1, value)
    segment = np.searchsorted(_ALAW_SEGMENT_ENDS, magnitude, side="left")
    shift = np.where(segment < 2, 1, segment)
    code = (np.minimum(segment, 7) << 4) | ((magnitude >> shift) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)  # beyond the last segment: the largest code
    return ((code ^ mask) & 0xFF).astype(np.uint8)


ULAW_TABLE = _ulaw_table()
ALAW_TABLE = _alaw_table()


def _pcm16(audio: np.ndarray) -> np.ndarray:
    """Float [-1, 1] -> int16, rounded as the PCM16 formats round (frontend.assembly.to_pcm16)."""
    return np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int32)


def ulaw_encode(audio: np.ndarray) -> bytes:
    return ULAW_TABLE[_pcm16(audio) + 32768].tobytes()


def alaw_encode(audio: np.ndarray) -> bytes:
    return ALAW_TABLE[_pcm16(audio) + 32768].tobytes()
