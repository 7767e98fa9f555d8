"""Admission control: at most N requests in synthesis, no more work than can be served
soon, and an honest Retry-After.

Slots alone admit 16 short sentences and 16 paragraphs alike. So the admission also counts
the work in flight in characters and measures how many characters a second the service
gets through while busy (its completions over its busy time, over the last
THROUGHPUT_WINDOW_S). A request is refused when the work ahead of it would take more than
`max_backlog_s` to get through, or when that and its own work would overrun the client's
deadline: a quick 429 instead of an answer too late to use. A long text puts only what its
fan-out window holds ahead of a newcomer (`ahead_cap_chars`), so one paragraph being read
does not lock out short prompts.
An idle service admits any request.

A refused client is told to come back when there is room: with N slots busy and requests
lasting about S seconds each, completions arrive about every S / N seconds; when the
backlog is the reason, when enough of it is done. Both are clamped to
[MIN_RETRY_S, MAX_RETRY_S]; S is a moving average of recent service times.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MIN_RETRY_S = 1  # Retry-After is whole seconds
MAX_RETRY_S = 30
# Weight of the newest service time in the moving average: about the last 10 requests.
SMOOTHING = 0.1
# Throughput is measured over the completions of this many recent seconds.
THROUGHPUT_WINDOW_S = 60.0
# Completions needed in the window before the backlog is judged (slots only until then).
MIN_COMPLETIONS = 3
# The body fields that hold what is to be spoken (/v1/tts, SSML, the OpenAI route).
SPOKEN_FIELDS = ("text", "ssml", "input")
_MARKUP = re.compile(r"<[^>]*>")


def request_chars(body: Mapping[str, Any]) -> int:
    """The characters a request body asks to speak, markup left out (at least 1): the
    admission's measure of its work, before the body is validated."""
    spoken = "".join(v for k in SPOKEN_FIELDS if isinstance(v := body.get(k), str))
    return max(1, len(_MARKUP.sub("", spoken).strip()))


@dataclass
class Admission:
    max_active: int
    # Refuse when the admitted work needs more than this many seconds (0: slots only).
    max_backlog_s: float = 0.0
    # What one request can put ahead of a newcomer, in characters (0: all of it): the
    # fan-out sends a request's chunks a few at a time (per-request concurrency x chunk
    # length), so a newcomer's first chunk waits behind that much of a long text, not all.
    ahead_cap_chars: int = 0
    clock: Callable[[], float] = time.monotonic
    active: int = 0
    in_flight_chars: int = 0
    mean_service_s: float | None = None  # None until the first request completes
    _busy_s: float = field(default=0.0, init=False)  # time with a request in, to _changed_at
    _changed_at: float = field(default=0.0, init=False)
    # (completed at, characters, busy seconds at that moment)
    _done: deque[tuple[float, int, float]] = field(default_factory=deque, init=False)

    def __post_init__(self) -> None:
        if self.max_active < 1:
            raise ValueError("max_active must be at least 1")
        if self.max_backlog_s < 0:
            raise ValueError("max_backlog_s must be 0 (off) or positive")
        self._changed_at = self.clock()

    def _tick(self) -> float:
        now = self.clock()
        if self.active > 0:
            self._busy_s += now - self._changed_at
        self._changed_at = now
        return now

    def chars_per_s(self) -> float | None:
        """Characters served per busy second over the window (None: too few completions)."""
        now = self.clock()
        while self._done and now - self._done[0][0] > THROUGHPUT_WINDOW_S:
            self._done.popleft()
        if len(self._done) < MIN_COMPLETIONS:
            return None
        busy = self._busy_s + (now - self._changed_at if self.active > 0 else 0.0)
        # The first completion in the window starts the measured span; later ones count.
        span = busy - self._done[0][2]
        chars = sum(c for _, c, _ in itertools.islice(self._done, 1, None))
        return chars / span if span > 0 and chars > 0 else None

    def backlog_s(self, rate: float | None = None) -> float:
        """Seconds the admitted work needs at the measured throughput (0 when unknown)."""
        rate = rate if rate is not None else self.chars_per_s()
        return self.in_flight_chars / rate if rate else 0.0

    def refusal(self, chars: int = 1, deadline_s: float | None = None) -> str | None:
        """Why a request of `chars` characters cannot be admitted now, or None."""
        if self.active >= self.max_active:
            return f"{self.active} requests are being served (limit {self.max_active})"
        if self.active == 0:
            return None
        rate = self.chars_per_s()
        backlog = self.backlog_s(rate)
        if self.max_backlog_s and backlog > self.max_backlog_s:
            return (
                f"the requests being served need about {backlog:.0f} s more "
                f"(limit {self.max_backlog_s:g} s)"
            )
        if deadline_s is not None and rate and backlog + chars / rate > deadline_s:
            return (
                f"it would take about {backlog + chars / rate:.0f} s, "
                f"more than its {deadline_s:g} s deadline"
            )
        return None

    def _ahead(self, chars: int) -> int:
        return min(chars, self.ahead_cap_chars) if self.ahead_cap_chars > 0 else chars

    def admit(self, chars: int = 1, deadline_s: float | None = None) -> str | None:
        """Take a slot (and count the request's characters in flight), or say why not."""
        reason = self.refusal(chars, deadline_s)
        if reason is None:
            self._tick()
            self.active += 1
            self.in_flight_chars += self._ahead(chars)
        return reason

    def try_enter(self, chars: int = 1, deadline_s: float | None = None) -> bool:
        return self.admit(chars, deadline_s) is None

    def leave(self, service_s: float | None, chars: int = 1) -> None:
        """Give the slot back. `service_s`: how long a served request held it; None for a
        request that failed (a quick 4xx says nothing about how long synthesis takes)."""
        if self.active <= 0:
            raise RuntimeError("leave() without a matching try_enter()")
        now = self._tick()
        self.active -= 1
        self.in_flight_chars = max(0, self.in_flight_chars - self._ahead(chars))
        if service_s is None:
            return
        self._done.append((now, chars, self._busy_s))
        if self.mean_service_s is None:
            self.mean_service_s = service_s
        else:
            self.mean_service_s += SMOOTHING * (service_s - self.mean_service_s)

    def retry_after_s(self) -> int:
        """Whole seconds until there is likely to be room."""
        estimates = [0.0]
        if self.mean_service_s is not None:
            estimates.append(self.mean_service_s / self.max_active)
        if self.max_backlog_s:
            estimates.append(self.backlog_s() - self.max_backlog_s)
        estimate = math.ceil(max(estimates))
        return max(MIN_RETRY_S, min(MAX_RETRY_S, estimate))
