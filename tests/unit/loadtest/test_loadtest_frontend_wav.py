from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from loadtest.users.frontend_http import wav_data_offset


def streamed_header(sample_rate: int = 16_000) -> bytes:
    """A canonical 44-byte header with unknown (0xFFFFFFFF) sizes, as the frontend streams."""
    fmt = struct.pack("<HHIIHH", 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return (
        b"RIFF"
        + b"\xff" * 4
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + b"\xff" * 4
    )


def test_streamed_header_offset() -> None:
    assert wav_data_offset(streamed_header() + b"\x00\x01") == 44


def test_short_head_asks_for_more() -> None:
    assert wav_data_offset(streamed_header()[:30]) is None


def test_header_with_extra_chunks() -> None:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(160, dtype=np.float32), 16_000, format="WAV", subtype="PCM_16")
    data = buffer.getvalue()
    offset = wav_data_offset(data)
    assert offset is not None
    assert len(data) - offset == 160 * 2


def test_not_a_wav_is_an_error() -> None:
    with pytest.raises(ValueError):
        wav_data_offset(b'{"error": {"code": "x"}}')
