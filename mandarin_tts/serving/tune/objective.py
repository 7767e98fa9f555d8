"""The objective: most audio-seconds per second whose p95 latency stays under a bound.

The bound is explicit (`--p95-max`) or the baseline's own p95 at the same concurrency times
a slack (default 1.1). A candidate with any failed request, or none completed, is out.
The baseline (the committed tier) is measured first and is always a candidate, so on the
measured run the winner is never worse than it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mandarin_tts.serving.tiers import Tier
from mandarin_tts.serving.tune.stats import LevelResult, ratio

DEFAULT_P95_SLACK = 1.1


@dataclass(frozen=True)
class Measurement:
    index: int  # 0 is the baseline
    stage: str
    tier: Tier
    result: LevelResult | None  # None: the candidate did not start or the load failed
    peak_memory_mb: float = math.nan
    setup_s: float = math.nan  # server start + probe + warm-up, before the measured load
    error: str = ""

    @property
    def throughput(self) -> float:
        return self.result.throughput if self.result else math.nan

    @property
    def p95_s(self) -> float:
        return self.result.p95_s if self.result else math.nan


def p95_bound(
    baseline: Measurement, explicit_s: float | None = None, slack: float = DEFAULT_P95_SLACK
) -> float:
    """The latency bound in seconds; NaN when there is neither an explicit one nor a
    baseline p95 (then nothing is feasible and nothing is written)."""
    if explicit_s is not None:
        return explicit_s
    return baseline.p95_s * slack


def feasible(m: Measurement, bound_s: float) -> bool:
    r = m.result
    return (
        r is not None
        and not m.error
        and r.requests > 0
        and r.errors == 0
        and not math.isnan(r.p95_s)
        and r.p95_s <= bound_s
        and r.throughput > 0
    )


def select(
    measurements: list[Measurement], bound_s: float, min_gain: float = 0.0
) -> Measurement | None:
    """The feasible measurement with the highest throughput, or None if none is feasible.

    With `min_gain` > 0 a challenger must beat a feasible baseline by that fraction, so
    run-to-run noise alone does not rewrite the tier. Ties go to the earlier candidate.
    """
    ok = [m for m in measurements if feasible(m, bound_s)]
    if not ok:
        return None
    best = max(ok, key=lambda m: (m.throughput, -m.index))
    baseline = next((m for m in ok if m.index == 0), None)
    if baseline is not None and best.throughput < baseline.throughput * (1.0 + min_gain):
        return baseline
    return best


def gain(m: Measurement, baseline: Measurement) -> float:
    """Throughput relative to the baseline (1.0 = equal)."""
    return ratio(m.throughput, baseline.throughput)
