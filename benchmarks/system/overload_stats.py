"""The pure parts of the overload scenario: the arrival schedule, per-level statistics
(goodput within the SLO, latencies, refusals, errors), the table and the 3x target."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from mandarin_tts.serving.tune.stats import percentile

REFUSAL_STATUSES = (429, 503)
SLO_S = 10.0
TARGET_KEEP = 0.9  # goodput at 3x must stay within 10 % of goodput at 1x


def poisson_schedule(rate_per_s: float, duration_s: float, seed: int = 7) -> list[float]:
    """Arrival offsets (s from the start) of a Poisson process at `rate_per_s`, all < duration."""
    if rate_per_s <= 0 or duration_s <= 0:
        raise ValueError(f"rate ({rate_per_s}) and duration ({duration_s}) must be > 0")
    rng = random.Random(seed)
    offsets: list[float] = []
    at = rng.expovariate(rate_per_s)
    while at < duration_s:
        offsets.append(at)
        at += rng.expovariate(rate_per_s)
    return offsets


@dataclass(frozen=True)
class Outcome:
    """One request: when it was sent (offset in its level), how long until the whole answer
    was read, its HTTP status (None: no answer), the audio seconds of a 200, what went wrong."""

    sent_at: float
    latency_s: float
    status: int | None
    audio_s: float = 0.0
    error: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == 200 and not self.error

    @property
    def refused(self) -> bool:
        return self.status in REFUSAL_STATUSES and not self.error

    @property
    def failed(self) -> bool:
        return not (self.accepted or self.refused)


def goodput(outcomes: Sequence[Outcome], window_s: float, slo_s: float = SLO_S) -> float:
    """Audio seconds per second of the arrival window, counting only accepted answers that
    arrived whole within the SLO (a late answer is worth nothing to its caller)."""
    if window_s <= 0:
        raise ValueError(f"window must be > 0, got {window_s}")
    good = sum(o.audio_s for o in outcomes if o.accepted and o.latency_s <= slo_s)
    return good / window_s


@dataclass(frozen=True)
class LevelStats:
    system: str
    multiple: float  # of the measured capacity
    rate_per_s: float
    window_s: float
    sent: int
    accepted: int
    within_slo: int
    refused: int
    errors: int
    goodput: float  # audio-s/s within the SLO
    accepted_p50_s: float
    accepted_p99_s: float
    refusal_p50_s: float
    refusal_p99_s: float
    peak_memory_mb: float
    error_examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def level_stats(
    system: str,
    multiple: float,
    rate_per_s: float,
    window_s: float,
    outcomes: Sequence[Outcome],
    peak_memory_mb: float,
    slo_s: float = SLO_S,
) -> LevelStats:
    accepted = [o.latency_s for o in outcomes if o.accepted]
    refused = [o.latency_s for o in outcomes if o.refused]
    errors = [o for o in outcomes if o.failed]
    examples = tuple(dict.fromkeys(e.error or f"HTTP {e.status}" for e in errors))[:3]
    return LevelStats(
        system=system,
        multiple=multiple,
        rate_per_s=rate_per_s,
        window_s=window_s,
        sent=len(outcomes),
        accepted=len(accepted),
        within_slo=sum(1 for latency in accepted if latency <= slo_s),
        refused=len(refused),
        errors=len(errors),
        goodput=goodput(outcomes, window_s, slo_s),
        accepted_p50_s=percentile(accepted, 50),
        accepted_p99_s=percentile(accepted, 99),
        refusal_p50_s=percentile(refused, 50),
        refusal_p99_s=percentile(refused, 99),
        peak_memory_mb=peak_memory_mb,
        error_examples=examples,
    )


def _cell(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


COLUMNS = (
    ("system", 12),
    ("load", 5),
    ("req/s", 6),
    ("sent", 5),
    ("ok", 5),
    ("<=SLO", 6),
    ("refused", 8),
    ("errors", 7),
    ("goodput", 8),
    ("p50 s", 7),
    ("p99 s", 7),
    ("ref p50", 8),
    ("ref p99", 8),
    ("peak MiB", 9),
)


def overload_table(levels: Sequence[LevelStats]) -> str:
    """One row per system and load level; goodput in audio-s/s within the SLO."""
    header = " ".join(name.rjust(width) for name, width in COLUMNS)
    rows = [header]
    for s in levels:
        cells = (
            s.system,
            f"{s.multiple:g}x",
            _cell(s.rate_per_s),
            str(s.sent),
            str(s.accepted),
            str(s.within_slo),
            str(s.refused),
            str(s.errors),
            _cell(s.goodput),
            _cell(s.accepted_p50_s),
            _cell(s.accepted_p99_s),
            _cell(s.refusal_p50_s, 3),
            _cell(s.refusal_p99_s, 3),
            _cell(s.peak_memory_mb, 0),
        )
        rows.append(" ".join(c.rjust(w) for c, (_, w) in zip(cells, COLUMNS, strict=True)))
    return "\n".join(rows)


@dataclass(frozen=True)
class KeepTarget:
    system: str
    goodput_1x: float
    goodput_top: float
    top_multiple: float
    ratio: float
    met: bool

    def text(self) -> str:
        verdict = "met" if self.met else "NOT met"
        return (
            f"{self.system}: goodput at {self.top_multiple:g}x {self.goodput_top:.2f} vs 1x "
            f"{self.goodput_1x:.2f} audio-s/s = {self.ratio:.0%} (target >= {TARGET_KEEP:.0%}): "
            f"{verdict}"
        )


def keep_target(levels: Sequence[LevelStats], system: str) -> KeepTarget | None:
    """Goodput at the highest load level against goodput at 1x, for one system."""
    own = [s for s in levels if s.system == system]
    base = [s for s in own if s.multiple == 1]
    if not base or len(own) < 2:
        return None
    top = max(own, key=lambda s: s.multiple)
    ratio = top.goodput / base[0].goodput if base[0].goodput > 0 else 0.0
    return KeepTarget(
        system, base[0].goodput, top.goodput, top.multiple, ratio, ratio >= TARGET_KEEP
    )
