"""Latency percentiles and throughput of one concurrency level of a closed-loop run."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class LevelResult:
    """What one system did at one concurrency level."""

    concurrency: int
    requests: int
    errors: int
    wall_s: float
    audio_s: float
    p50_s: float
    p95_s: float
    p99_s: float

    @property
    def throughput(self) -> float:
        """Audio seconds delivered per wall-clock second (higher is better)."""
        return self.audio_s / self.wall_s if self.wall_s > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "throughput": self.throughput}


def summarize(
    concurrency: int, latencies_s: list[float], audio_s: float, wall_s: float, errors: int = 0
) -> LevelResult:
    return LevelResult(
        concurrency=concurrency,
        requests=len(latencies_s),
        errors=errors,
        wall_s=wall_s,
        audio_s=audio_s,
        p50_s=percentile(latencies_s, 50),
        p95_s=percentile(latencies_s, 95),
        p99_s=percentile(latencies_s, 99),
    )


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when either is missing or the denominator is 0."""
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return math.nan
    return numerator / denominator
