"""TTS-specific load-test metrics that locust's request stats do not cover.

Per successful request: first-audio latency (time to the first audio bytes; equal to the
total latency for non-streaming calls), real-time factor (wall time / audio seconds; below
1 is faster than real time) and audio seconds produced. Workers ship their samples to the
master (`drain` -> `merge`), so the master's summary covers the whole distributed run.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

ALL = "Aggregated"


@dataclass(frozen=True)
class Sample:
    first_audio_s: float
    total_s: float
    audio_s: float


def real_time_factor(sample: Sample) -> float:
    """Wall time per audio second (below 1: faster than real time); inf without audio."""
    return math.inf if sample.audio_s <= 0 else sample.total_s / sample.audio_s


@dataclass(frozen=True)
class Summary:
    name: str
    requests: int
    audio_seconds: float
    first_audio_p50_ms: float
    first_audio_p95_ms: float
    rtf_p50: float
    rtf_p95: float
    rtf_max: float


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (the sample value itself, no interpolation); nan if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize(name: str, samples: Sequence[Sample]) -> Summary:
    first = [s.first_audio_s * 1000 for s in samples]
    rtf = [real_time_factor(s) for s in samples]
    return Summary(
        name=name,
        requests=len(samples),
        audio_seconds=sum(s.audio_s for s in samples),
        first_audio_p50_ms=percentile(first, 0.50),
        first_audio_p95_ms=percentile(first, 0.95),
        rtf_p50=percentile(rtf, 0.50),
        rtf_p95=percentile(rtf, 0.95),
        rtf_max=max(rtf, default=math.nan),
    )


class TtsMetrics:
    """Samples per request name (e.g. "triton-grpc sentence")."""

    def __init__(self) -> None:
        self.samples: dict[str, list[Sample]] = {}

    def record(self, name: str, first_audio_s: float, total_s: float, audio_s: float) -> None:
        self.samples.setdefault(name, []).append(Sample(first_audio_s, total_s, audio_s))

    def drain(self) -> dict[str, list[list[float]]]:
        """Take the samples out as plain lists (what a worker sends to the master)."""
        data = {
            name: [[s.first_audio_s, s.total_s, s.audio_s] for s in samples]
            for name, samples in self.samples.items()
        }
        self.samples = {}
        return data

    def merge(self, data: dict[str, list[list[float]]]) -> None:
        for name, rows in data.items():
            self.samples.setdefault(name, []).extend(Sample(*row) for row in rows)

    def reset(self) -> None:
        self.samples = {}

    def all_samples(self) -> list[Sample]:
        return [s for samples in self.samples.values() for s in samples]

    def summaries(self) -> list[Summary]:
        rows = [summarize(name, self.samples[name]) for name in sorted(self.samples)]
        return [*rows, summarize(ALL, self.all_samples())]

    def table(self) -> str:
        header = f"{'name':<34} {'reqs':>5} {'audio s':>8} {'1st p50':>8} {'1st p95':>8} {'RTF p50':>8} {'RTF p95':>8} {'RTF max':>8}"
        lines = ["TTS metrics (first-audio latency in ms, RTF = wall time / audio time)", header]
        for s in self.summaries():
            lines.append(
                f"{s.name:<34} {s.requests:>5} {s.audio_seconds:>8.1f} {s.first_audio_p50_ms:>8.0f} "
                f"{s.first_audio_p95_ms:>8.0f} {s.rtf_p50:>8.3f} {s.rtf_p95:>8.3f} {s.rtf_max:>8.3f}"
            )
        return "\n".join(lines)

    def write_csv(self, path: Path) -> None:
        names = [f.name for f in fields(Summary)]
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            for s in self.summaries():
                writer.writerow([getattr(s, n) for n in names])
