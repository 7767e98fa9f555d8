"""Readiness from an end-to-end probe: a tiny real synthesis, cached for a few seconds.

Triton 2.51 keeps answering /v2/health/ready after a Python-backend stub crashed, so only a
real inference shows that the service can speak. A liveness check with a short timeout
comes first: a hung server answers nothing, and /healthz then says so within seconds
instead of after the probe's timeout."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from frontend.errors import ApiError
from frontend.synthesis import ChunkSynthesizer, VoiceParams

PROBE_TEXT = "你好。"
LIVENESS_TIMEOUT_S = 2.0


@dataclass
class ProbeResult:
    ready: bool
    detail: str
    checked_at: float
    probe_seconds: float


class HealthProbe:
    def __init__(
        self,
        synthesizer: ChunkSynthesizer,
        interval_s: float,
        timeout_s: float,
        params: VoiceParams | None = None,
    ) -> None:
        self.synthesizer = synthesizer
        # The default voice: the one requests without a voice get.
        self.params = params or VoiceParams()
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._last: ProbeResult | None = None
        self._lock = asyncio.Lock()

    async def check(self) -> ProbeResult:
        async with self._lock:  # concurrent /healthz calls share one probe
            now = time.monotonic()
            if self._last is not None and now - self._last.checked_at < self.interval_s:
                return self._last
            self._last = await self._probe()
            return self._last

    async def _probe(self) -> ProbeResult:
        start = time.monotonic()
        is_live = getattr(self.synthesizer, "is_live", None)  # Triton's synthesizer has one
        if is_live is not None and not await is_live(LIVENESS_TIMEOUT_S):
            return ProbeResult(
                False,
                f"the inference server did not answer its liveness check within "
                f"{LIVENESS_TIMEOUT_S:g} s",
                time.monotonic(),
                time.monotonic() - start,
            )
        try:
            audio = await asyncio.wait_for(
                self.synthesizer.synthesize(PROBE_TEXT, self.params), self.timeout_s
            )
        except (ApiError, TimeoutError) as error:
            detail = getattr(error, "message", None) or f"probe timed out after {self.timeout_s} s"
            return ProbeResult(False, detail, time.monotonic(), time.monotonic() - start)
        except Exception as error:  # any failure means "not ready", never a crashed endpoint
            return ProbeResult(
                False, f"probe failed: {error!r}", time.monotonic(), time.monotonic() - start
            )
        if audio.size == 0:
            return ProbeResult(
                False, "probe returned empty audio", time.monotonic(), time.monotonic() - start
            )
        return ProbeResult(
            True, "end-to-end probe succeeded", time.monotonic(), time.monotonic() - start
        )
