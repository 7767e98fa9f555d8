"""Chunked HTTP delivery: the header and first chunk's audio go out as soon as they are ready."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
from aiohttp import web

from frontend.assembly import to_pcm16
from frontend.encoding import AudioFormat, wav_header


async def first_and_rest(
    pieces: AsyncIterator[np.ndarray],
) -> tuple[np.ndarray, AsyncIterator[np.ndarray]]:
    """Wait for the first piece (so that its errors can still be answered as JSON)."""
    first = await anext(pieces)
    return first, pieces


async def stream_pcm(
    response: web.StreamResponse,
    request: web.Request,
    fmt: AudioFormat,
    sample_rate: int,
    first: np.ndarray,
    rest: AsyncIterator[np.ndarray],
) -> int:
    """Send header + pieces; returns the number of samples written."""
    await response.prepare(request)
    prefix = wav_header(None, sample_rate) if fmt is AudioFormat.WAV else b""
    await response.write(prefix + to_pcm16(first))
    samples = int(first.size)
    async for piece in rest:
        await response.write(to_pcm16(piece))
        samples += int(piece.size)
    await response.write_eof()
    return samples
