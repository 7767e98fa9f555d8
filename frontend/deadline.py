"""Deadlines: one per request, and one per Triton call derived from what the call should cost.

A hung Triton answers nothing, so without deadlines a request would wait for ever (or for
a generous fixed timeout). Each chunk call therefore gets a timeout from its expected cost:

    chars x AUDIO_SECONDS_PER_CHAR x rtf + queue allowance, kept within [floor, cap]

where `rtf` is the tier's real-time factor measured under load (seconds of compute per
second of audio, queueing behind the other calls in flight included), and the allowance
covers batching delays and a queue of calls ahead. A client may bound the whole request
with the X-Request-Timeout header (seconds); every call then also ends by that deadline.

The request's deadline reaches the chunk calls through a context variable: the handler sets
it, and the asyncio tasks that synthesize its chunks inherit it (a task copies the context
it is created in), without threading it through every layer in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from frontend.errors import RETRY_AFTER_S, ApiError, InvalidParameter

REQUEST_TIMEOUT_HEADER = "X-Request-Timeout"
# Speaking rate of the bundled voice: the long eval text is 113 s of audio for 563 chars.
AUDIO_SECONDS_PER_CHAR = 0.2
# The shortest deadline a client may ask for: less cannot synthesize anything.
MIN_REQUEST_TIMEOUT_S = 1.0


class DeadlineExceeded(ApiError, status=504, code="deadline_exceeded"):
    """The request's deadline passed before its audio was complete (the server was too slow
    or unavailable; the client's request was fine)."""


@dataclass(frozen=True)
class CallCost:
    """How long one Triton call may take: see the module docstring."""

    rtf: float = 1.5
    queue_allowance_s: float = 10.0
    floor_s: float = 10.0
    cap_s: float = 60.0

    def __post_init__(self) -> None:
        if self.rtf <= 0 or self.queue_allowance_s < 0 or not 0 < self.floor_s <= self.cap_s:
            raise ValueError(f"invalid call cost: {self}")

    def timeout_s(self, chars: int) -> float:
        expected = chars * AUDIO_SECONDS_PER_CHAR * self.rtf + self.queue_allowance_s
        return min(self.cap_s, max(self.floor_s, expected))


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock by which a request must be answered."""

    at: float
    budget_s: float  # as asked for, for messages

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def remaining_s(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"the request did not complete within its deadline of {self.budget_s:g} s "
            f"(the server is slow or unavailable); retry later, or allow more time with "
            f"{REQUEST_TIMEOUT_HEADER}",
            retry_after_s=RETRY_AFTER_S,
        )


CURRENT_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "request_deadline", default=None
)


def parse_request_timeout(value: str, max_s: float) -> float:
    """The X-Request-Timeout header: decimal seconds in [MIN_REQUEST_TIMEOUT_S, max_s]."""
    try:
        seconds = float(value.strip())
    except ValueError:
        seconds = math.nan
    if not MIN_REQUEST_TIMEOUT_S <= seconds <= max_s:  # also false for nan
        raise InvalidParameter(
            f"{REQUEST_TIMEOUT_HEADER} must be a number of seconds from "
            f"{MIN_REQUEST_TIMEOUT_S:g} to {max_s:g}, not {value[:40]!r}"
        )
    return seconds


def request_deadline(headers: Mapping[str, str], default_s: float, max_s: float) -> Deadline | None:
    """The client's deadline if it sent one (400 if malformed), else the default (0: none;
    the per-call deadlines still bound every wait)."""
    value = headers.get(REQUEST_TIMEOUT_HEADER)
    if value is not None:
        return Deadline.after(parse_request_timeout(value, max_s))
    return Deadline.after(default_s) if default_s > 0 else None


@contextlib.contextmanager
def deadline_scope(deadline: Deadline | None) -> Iterator[None]:
    """Chunk calls started inside see `deadline` (tasks inherit the context)."""
    token = CURRENT_DEADLINE.set(deadline)
    try:
        yield
    finally:
        CURRENT_DEADLINE.reset(token)


def call_timeout_s(cost: CallCost, chars: int) -> float:
    """This call's timeout: its expected cost, and no later than the request's deadline."""
    timeout = cost.timeout_s(chars)
    deadline = CURRENT_DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline.remaining_s()
    if remaining <= 0:
        raise deadline.expired()
    return min(timeout, remaining)


async def within_deadline(
    pieces: AsyncIterator[np.ndarray], deadline: Deadline | None
) -> AsyncGenerator[np.ndarray, None]:
    """`pieces`, each awaited no later than `deadline`; on expiry `pieces` is closed (which
    cancels its queued and in-flight chunk calls) and DeadlineExceeded raised."""
    try:
        while True:
            if deadline is None:
                piece = await anext(pieces, None)
            else:
                piece = await _next_by(pieces, deadline)
            if piece is None:
                return
            yield piece
    finally:
        aclose = getattr(pieces, "aclose", None)
        if aclose is not None:
            await aclose()


async def _next_by(pieces: AsyncIterator[np.ndarray], deadline: Deadline) -> np.ndarray | None:
    """The next piece, or DeadlineExceeded once `deadline` passes (a chunk's own timeout
    error stays what it is: asyncio.wait tells the two apart, on Python 3.10 too)."""
    remaining = deadline.remaining_s()
    if remaining <= 0:
        raise deadline.expired()
    step = asyncio.ensure_future(anext(pieces, None))
    try:
        done, _ = await asyncio.wait({step}, timeout=remaining)
    finally:
        if not step.done():  # expired, or this request was cancelled (client gone)
            step.cancel()
            await asyncio.gather(step, return_exceptions=True)
    if not done:
        raise deadline.expired()
    return step.result()


def call_cost(rtf: float, queue_allowance_s: float, floor_s: float, cap_s: float) -> CallCost:
    """The configured cost model (frontend/config.py); a floor above the cap is the cap."""
    return CallCost(rtf, queue_allowance_s, min(floor_s, cap_s), cap_s)
