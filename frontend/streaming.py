"""Chunked HTTP delivery: the header and first chunk's audio go out as soon as they are ready,
as raw audio bytes or as OpenAI's server-sent events.

Encoding runs in the default executor: MP3/AAC take 10-25 ms per second of audio on these
cores, too long to hold the event loop for a multi-second chunk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
from aiohttp import web

from frontend.encoding import StreamEncoder
from frontend.errors import ApiError
from frontend.openai_compat import audio_delta, audio_done, error_event

# Encoding in the event loop is fine below this many samples (a WAV/G.711 piece is a copy).
INLINE_SAMPLES = 4_000


async def encode_piece(encoder: StreamEncoder, piece: np.ndarray) -> bytes:
    """`encoder.write(piece)`, in the default executor unless the piece is small."""
    if piece.size <= INLINE_SAMPLES:
        return encoder.write(piece)
    return await asyncio.get_running_loop().run_in_executor(None, encoder.write, piece)


async def first_and_rest(
    pieces: AsyncIterator[np.ndarray],
) -> tuple[np.ndarray, AsyncIterator[np.ndarray]]:
    """Wait for the first piece (so that its errors can still be answered as JSON)."""
    first = await anext(pieces)
    return first, pieces


async def _encoded(
    encoder: StreamEncoder, first: np.ndarray, rest: AsyncIterator[np.ndarray], counter: list[int]
) -> AsyncIterator[bytes]:
    """The encoder's bytes piece by piece (empty ones skipped), then its tail; counts the source
    samples in counter[0]."""
    loop = asyncio.get_running_loop()

    async def run(piece: np.ndarray) -> bytes:
        counter[0] += int(piece.size)
        return await encode_piece(encoder, piece)

    data = await run(first)
    if data:
        yield data
    async for piece in rest:
        data = await run(piece)
        if data:
            yield data
    tail = await loop.run_in_executor(None, encoder.close)
    if tail:
        yield tail


async def stream_audio(
    response: web.StreamResponse,
    request: web.Request,
    encoder: StreamEncoder,
    first: np.ndarray,
    rest: AsyncIterator[np.ndarray],
) -> int:
    """Send the encoded pieces as they come; returns the number of source samples."""
    await response.prepare(request)
    counter = [0]
    async for data in _encoded(encoder, first, rest, counter):
        await response.write(data)
    await response.write_eof()
    return counter[0]


async def stream_sse(
    response: web.StreamResponse,
    request: web.Request,
    encoder: StreamEncoder,
    first: np.ndarray,
    rest: AsyncIterator[np.ndarray],
    *,
    input_chars: int,
    source_rate: int,
) -> int:
    """OpenAI's stream_format "sse": one speech.audio.delta per encoded piece, then
    speech.audio.done.  An ApiError after the headers becomes an `error` event, then is
    raised again (the caller logs it and ends the connection)."""
    await response.prepare(request)
    counter = [0]
    try:
        async for data in _encoded(encoder, first, rest, counter):
            await response.write(audio_delta(data))
    except ApiError as error:
        await response.write(error_event(error))
        raise
    await response.write(audio_done(input_chars, counter[0] / source_rate))
    await response.write_eof()
    return counter[0]
