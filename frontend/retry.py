"""Retry of failed chunks.  A chunk is idempotent (same text and parameters, same audio), so
a transient failure (server restarting, a crashed Python stub, a full queue, a timeout, a
dropped connection) is retried a few times with a short backoff instead of failing the whole
request.  The retries of one request share a budget, so a dead backend fails requests
quickly and a flood of retries cannot multiply the load.  A request either gets all of its
audio or one clear error, never silently missing chunks.

A retry must also fit in the request's deadline (frontend/deadline.py): one that could not
even start before it passes is not tried, and the last error is answered instead (a 503
with Retry-After rather than a 504 after a pointless wait)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from frontend.deadline import CURRENT_DEADLINE
from frontend.errors import RETRY_AFTER_S, ApiError, InvalidParameter, TritonUnavailable
from frontend.synthesis import ChunkSynthesizer, VoiceParams
from frontend.timestamps import AlignedAudio

T = TypeVar("T")

# A retry needs at least this much of the request's deadline left after its backoff.
MIN_ATTEMPT_S = 1.0


def fits_deadline(delay_s: float) -> bool:
    """Whether an attempt after `delay_s` still has MIN_ATTEMPT_S before the deadline."""
    deadline = CURRENT_DEADLINE.get()
    return deadline is None or deadline.remaining_s() - delay_s >= MIN_ATTEMPT_S


@dataclass(frozen=True)
class RetryPolicy:
    max_retries_per_chunk: int = 2
    retry_budget_per_request: int = 4
    backoff_s: float = 0.25  # doubled per attempt, with jitter, capped at max_backoff_s
    max_backoff_s: float = 2.0

    def delay_s(self, attempt: int) -> float:
        base = min(self.max_backoff_s, self.backoff_s * 2**attempt)
        return base * random.uniform(0.5, 1.0)


def is_retryable(error: BaseException) -> bool:
    """Transient backend trouble only; a rejected text or a bad request fails at once."""
    if isinstance(error, ApiError):
        return error.retryable
    return isinstance(error, (ConnectionError, TimeoutError))


class RetryBudget:
    """Retries left for one request, shared by all of its chunks."""

    def __init__(self, retries: int) -> None:
        self.remaining = retries

    def take(self) -> bool:
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


class RetryingSynthesizer:
    """A ChunkSynthesizer that retries `inner` within `policy` and the request's `budget`."""

    def __init__(
        self,
        inner: ChunkSynthesizer,
        policy: RetryPolicy,
        budget: RetryBudget,
        on_retry: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.budget = budget
        self.on_retry = on_retry

    async def synthesize(self, text: str, params: VoiceParams) -> np.ndarray:
        return await self._retried(lambda: self.inner.synthesize(text, params))

    async def synthesize_aligned(self, text: str, params: VoiceParams) -> AlignedAudio:
        """The inner synthesizer's audio with timestamps (frontend/timestamps.py)."""
        aligned = getattr(self.inner, "synthesize_aligned", None)
        if aligned is None:
            raise InvalidParameter(
                "timestamps are not available from this deployment's synthesizer",
                param="timestamps",
            )
        return await self._retried(lambda: aligned(text, params))

    async def _retried(self, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            delay = self.policy.delay_s(attempt)
            try:
                return await call()
            except Exception as error:  # noqa: BLE001 - classified just below
                if (
                    not is_retryable(error)
                    or attempt >= self.policy.max_retries_per_chunk
                    or not fits_deadline(delay)
                    or not self.budget.take()
                ):
                    if isinstance(error, ApiError):
                        raise
                    if is_retryable(error):  # a connection error: still one clear API error
                        raise TritonUnavailable(
                            f"the inference server is unreachable ({error}); retry later",
                            retry_after_s=RETRY_AFTER_S,
                        ) from error
                    raise
                if self.on_retry is not None:
                    self.on_retry(error)
            await asyncio.sleep(delay)
            attempt += 1
