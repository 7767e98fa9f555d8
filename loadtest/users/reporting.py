"""Turns one timed synthesis into a locust request event plus a TTS metrics sample.

All three client wrappers report through this, so locust's stats (and the SLO gate) see the
same request names, response times (until the last audio byte) and failures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from loadtest.users.metrics import TtsMetrics


class EmptyAudio(RuntimeError):
    """The service answered but returned no audio."""


@dataclass
class Reporter:
    request_event: Any  # locust EventHook (environment.events.request)
    metrics: TtsMetrics

    def success(
        self,
        request_type: str,
        name: str,
        started: float,
        first_audio_s: float,
        audio_s: float,
        response_length: int,
    ) -> None:
        total_s = time.perf_counter() - started
        if audio_s <= 0:
            self.failure(
                request_type, name, started, EmptyAudio("no audio samples"), response_length
            )
            return
        self.metrics.record(name, first_audio_s, total_s, audio_s)
        self.request_event.fire(
            request_type=request_type,
            name=name,
            response_time=total_s * 1000,
            response_length=response_length,
            exception=None,
            context={},
        )

    def failure(
        self,
        request_type: str,
        name: str,
        started: float,
        exception: BaseException,
        response_length: int = 0,
    ) -> None:
        self.request_event.fire(
            request_type=request_type,
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=response_length,
            exception=exception,
            context={},
        )
