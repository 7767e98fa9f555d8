"""The pure parts of the soak run: per-process samples, growth after warm-up, the verdict
and the summary table."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

GROWTH_LIMIT_PCT = 10.0
# Open descriptors move by a few as connections come and go; a 10 % rise of 30 fds is 3
# sockets, so fds fail only when they also grew by more than this many.
FD_SLACK = 4


@dataclass(frozen=True)
class Sample:
    at: float  # s since the start of the run
    rss_mb: float
    fds: int


@dataclass(frozen=True)
class Growth:
    process: str
    rss_start_mb: float
    rss_end_mb: float
    rss_growth_pct: float
    fds_start: float
    fds_end: float
    fds_growth_pct: float
    samples: int
    failed: bool

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def window_median(samples: Sequence[Sample], start: float, end: float, field: str) -> float:
    values = [float(getattr(s, field)) for s in samples if start <= s.at <= end]
    if not values:
        raise ValueError(f"no samples between {start:.0f} s and {end:.0f} s")
    return statistics.median(values)


def pct(start: float, end: float) -> float:
    return 0.0 if start == end else (end - start) / start * 100 if start > 0 else float("inf")


def growth(
    process: str,
    samples: Sequence[Sample],
    warmup_s: float,
    window_s: float,
    limit_pct: float = GROWTH_LIMIT_PCT,
    fd_slack: int = FD_SLACK,
    end_s: float | None = None,
) -> Growth:
    """Median of the first `window_s` after warm-up against the median of the last
    `window_s` of the run (medians, so one sample taken mid-request does not decide)."""
    last = max(s.at for s in samples) if end_s is None else end_s
    if last - window_s < warmup_s + window_s:
        raise ValueError(
            f"{process}: {last:.0f} s of samples cannot hold a {warmup_s:.0f} s warm-up and two"
            f" {window_s:.0f} s windows"
        )
    rss0 = window_median(samples, warmup_s, warmup_s + window_s, "rss_mb")
    rss1 = window_median(samples, last - window_s, last, "rss_mb")
    fds0 = window_median(samples, warmup_s, warmup_s + window_s, "fds")
    fds1 = window_median(samples, last - window_s, last, "fds")
    rss_pct, fds_pct = pct(rss0, rss1), pct(fds0, fds1)
    failed = rss_pct > limit_pct or (fds_pct > limit_pct and fds1 - fds0 > fd_slack)
    count = sum(1 for s in samples if s.at >= warmup_s)
    return Growth(process, rss0, rss1, rss_pct, fds0, fds1, fds_pct, count, failed)


def all_growth(
    by_process: Mapping[str, Sequence[Sample]], warmup_s: float, window_s: float
) -> tuple[list[Growth], list[str]]:
    """Growth of each process, and what could not be judged (a process that exited or
    appeared mid-run has no samples in one of the windows: itself a finding)."""
    rows, problems = [], []
    end = max((s.at for samples in by_process.values() for s in samples), default=0.0)
    for name, samples in sorted(by_process.items()):
        try:
            rows.append(growth(name, samples, warmup_s, window_s, end_s=end))
        except ValueError as error:
            problems.append(str(error))
    return rows, problems


def growth_table(rows: Sequence[Growth]) -> str:
    lines = [
        f"{'process':<28} {'RSS start':>9} {'RSS end':>9} {'RSS %':>7} "
        f"{'fds start':>9} {'fds end':>8} {'fds %':>7}  verdict"
    ]
    for g in rows:
        lines.append(
            f"{g.process:<28} {g.rss_start_mb:>9.1f} {g.rss_end_mb:>9.1f} {g.rss_growth_pct:>+7.1f}"
            f" {g.fds_start:>9.0f} {g.fds_end:>8.0f} {g.fds_growth_pct:>+7.1f}  "
            + ("GROWTH" if g.failed else "ok")
        )
    return "\n".join(lines)
