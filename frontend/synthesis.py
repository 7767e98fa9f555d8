"""Fan-out of one request's chunks to a chunk synthesizer with bounded concurrency, results
delivered in order as soon as each is ready."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from frontend.chunking import Chunk
from frontend.prosody import Prosody
from mandarin_tts import contract
from mandarin_tts.voices.registry import BUNDLED_VOICE


@dataclass(frozen=True)
class VoiceParams:
    speed: float = 1.0
    pitch: float = 1.0
    energy: float = 1.0
    # Which installed voice, and its speaker and emotion ("" = the voice's default); the
    # HTTP frontend fills them from the checked request (frontend/voices.py).
    voice: str = BUNDLED_VOICE
    speaker: str = ""
    emotion: str = ""


def _clamped(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def with_prosody(params: VoiceParams, prosody: Prosody) -> VoiceParams:
    """The request's parameters times a chunk's SSML prosody, kept within what the model
    takes (nested or combined multipliers are clamped, as SSML allows)."""
    if prosody.speed == 1.0 and prosody.pitch == 1.0:
        return params
    return dataclasses.replace(
        params,
        speed=_clamped(params.speed * prosody.speed, contract.SPEED_RANGE),
        pitch=_clamped(params.pitch * prosody.pitch, contract.PITCH_RANGE),
    )


class ChunkSynthesizer(Protocol):
    """Text of one chunk -> float32 audio at the sample rate of `params.voice` (its manifest's);
    raises frontend.errors.ApiError."""

    async def synthesize(self, text: str, params: VoiceParams) -> np.ndarray: ...


Result = TypeVar("Result")


def synthesize_in_order(
    chunks: Sequence[Chunk],
    synthesizer: ChunkSynthesizer,
    params: VoiceParams,
    *,
    window: int,
    global_limit: asyncio.Semaphore,
    first_alone: bool = False,
) -> AsyncGenerator[tuple[Chunk, np.ndarray], None]:
    """Yield (chunk, audio) in text order (see `call_in_order`)."""
    return call_in_order(
        chunks,
        synthesizer.synthesize,
        params,
        window=window,
        global_limit=global_limit,
        first_alone=first_alone,
    )


async def call_in_order(
    chunks: Sequence[Chunk],
    call: Callable[[str, VoiceParams], Awaitable[Result]],
    params: VoiceParams,
    *,
    window: int,
    global_limit: asyncio.Semaphore,
    first_alone: bool = False,
) -> AsyncGenerator[tuple[Chunk, Result], None]:
    """Yield (chunk, `call`'s result for it) in text order.

    At most `window` chunks of this request are started but not yet consumed, which bounds
    both its share of Triton and the audio it buffers for a slow reader; `global_limit`
    bounds Triton calls across all requests.  With `first_alone` the first chunk is sent by
    itself (Triton does not batch it with, and pad it to, the longer chunks behind it), the
    others once it is done.  Unconsumed work is cancelled on exit.
    """
    if window < 1:
        raise ValueError("window must be >= 1")

    async def one(chunk: Chunk) -> Result:
        async with global_limit:
            return await call(chunk.text, with_prosody(params, chunk.prosody))

    pending: deque[tuple[Chunk, asyncio.Task[Result]]] = deque()
    upcoming = iter(chunks)

    def refill(limit: int = window) -> None:
        while len(pending) < limit:
            chunk = next(upcoming, None)
            if chunk is None:
                return
            pending.append((chunk, asyncio.ensure_future(one(chunk))))

    try:
        refill(1 if first_alone else window)
        while pending:
            chunk, task = pending.popleft()
            audio = await task
            refill()  # keep the window full before handing this result out
            yield chunk, audio
    finally:
        for _, task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*(t for _, t in pending), return_exceptions=True)
