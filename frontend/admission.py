"""Admission control: at most N requests in synthesis, and an honest Retry-After.

A refused client is told to come back when a slot is likely to be free. With N slots
busy and requests lasting about S seconds each, completions arrive about every S / N
seconds, so that is the hint (clamped to [MIN_RETRY_S, MAX_RETRY_S]). S is a moving
average of recent service times, so the hint follows the text lengths and the load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_RETRY_S = 1  # Retry-After is whole seconds
MAX_RETRY_S = 30
# Weight of the newest service time in the moving average: about the last 10 requests.
SMOOTHING = 0.1


@dataclass
class Admission:
    max_active: int
    active: int = 0
    mean_service_s: float | None = None  # None until the first request completes

    def __post_init__(self) -> None:
        if self.max_active < 1:
            raise ValueError("max_active must be at least 1")

    def try_enter(self) -> bool:
        """Take a slot if one is free."""
        if self.active >= self.max_active:
            return False
        self.active += 1
        return True

    def leave(self, service_s: float | None) -> None:
        """Give the slot back. `service_s`: how long a served request held it; None for a
        request that failed (a quick 4xx says nothing about how long synthesis takes)."""
        if self.active <= 0:
            raise RuntimeError("leave() without a matching try_enter()")
        self.active -= 1
        if service_s is None:
            return
        if self.mean_service_s is None:
            self.mean_service_s = service_s
        else:
            self.mean_service_s += SMOOTHING * (service_s - self.mean_service_s)

    def retry_after_s(self) -> int:
        """Whole seconds until a slot is likely to be free."""
        if self.mean_service_s is None:
            return MIN_RETRY_S
        estimate = math.ceil(self.mean_service_s / self.max_active)
        return max(MIN_RETRY_S, min(MAX_RETRY_S, estimate))
