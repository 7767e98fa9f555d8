"""One model at a time, coarse to fine (coordinate descent over the step models).

Baseline first (it fixes the p95 bound). Then for each model in tuning order: its compute
axes jointly (instances x intra-op threads [x batch size]) around the incumbent, then each
fine axis alone (inter-op threads, then the batcher delay). After every stage the incumbent
becomes the best feasible tier measured so far. A tier already measured is never measured
again; `max_candidates` (baseline included) and `budget_s` bound the whole run.

Optionally (`confirm_rounds`) the baseline and the winner are then measured again,
alternately, and the winner stands only if it still wins on the pooled samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mandarin_tts.serving.tiers import Tier
from mandarin_tts.serving.tune.objective import Measurement, p95_bound, select
from mandarin_tts.serving.tune.space import (
    SearchSpace,
    Skipped,
    settings_key,
    stage_candidates,
    stages,
)
from mandarin_tts.serving.tune.stats import LevelResult

# Measures one tier: (index, stage label, tier) -> Measurement. Injected so the search is
# testable without a server.
Measure = Callable[[int, str, Tier], Measurement]


@dataclass(frozen=True)
class Objective:
    p95_max_s: float | None = None  # None: baseline p95 x p95_slack
    p95_slack: float = 1.1
    min_gain: float = 0.0


@dataclass
class TuneRun:
    baseline: Tier
    bound_s: float = float("nan")
    measurements: list[Measurement] = field(default_factory=list)
    skipped: list[tuple[str, Skipped]] = field(default_factory=list)
    winner: Measurement | None = None
    stopped_early: bool = False
    # Pooled (baseline, challenger) samples when the winner was confirmed.
    confirmation: tuple[Measurement, Measurement] | None = None

    def samples(self, tier: Tier) -> list[Measurement]:
        return [m for m in self.measurements if settings_key(m.tier) == settings_key(tier)]


def pooled(samples: list[Measurement]) -> Measurement:
    """One measurement from repeated ones: total audio / total wall time; the latency
    percentiles are the means of the samples' percentiles. Index and stage of the first."""
    first = samples[0]
    results = [m.result for m in samples if m.result is not None]
    errors = [m.error for m in samples if m.error]
    if not results:
        return first

    def mean(values: list[float]) -> float:
        return sum(values) / len(values)

    result = LevelResult(
        concurrency=results[0].concurrency,
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        wall_s=sum(r.wall_s for r in results),
        audio_s=sum(r.audio_s for r in results),
        p50_s=mean([r.p50_s for r in results]),
        p95_s=mean([r.p95_s for r in results]),
        p99_s=mean([r.p99_s for r in results]),
    )
    return Measurement(
        first.index,
        first.stage,
        first.tier,
        result,
        max(m.peak_memory_mb for m in samples),
        error=errors[0] if errors else "",
    )


def tune(
    baseline: Tier,
    space: SearchSpace,
    measure: Measure,
    objective: Objective = Objective(),
    max_candidates: int | None = None,
    on_measured: Callable[[Measurement], None] = lambda m: None,
    confirm_rounds: int = 0,
    budget_s: float | None = None,
) -> TuneRun:
    """`budget_s`: start no new search candidate after this many seconds (confirmation
    rounds still run)."""
    run = TuneRun(baseline)
    seen = {settings_key(baseline)}
    deadline = None if budget_s is None else time.monotonic() + budget_s

    def out_of_budget() -> bool:
        if max_candidates is not None and len(run.measurements) >= max_candidates:
            return True
        return deadline is not None and time.monotonic() >= deadline

    def measure_one(stage: str, tier: Tier) -> None:
        m = measure(len(run.measurements), stage, tier)
        run.measurements.append(m)
        on_measured(m)

    measure_one("baseline", baseline)
    run.bound_s = p95_bound(run.measurements[0], objective.p95_max_s, objective.p95_slack)
    incumbent = baseline
    for stage in stages(space):
        found = stage_candidates(incumbent, space, stage)
        run.skipped += [(stage.label, s) for s in found.skipped]
        for tier in found.tiers:
            if settings_key(tier) in seen:
                continue
            if out_of_budget():
                run.stopped_early = True
                break
            seen.add(settings_key(tier))
            measure_one(stage.label, tier)
        best = select(run.measurements, run.bound_s, objective.min_gain)
        incumbent = best.tier if best else baseline
        if run.stopped_early:
            break
    run.winner = select(run.measurements, run.bound_s, objective.min_gain)
    challenger = run.winner
    if confirm_rounds > 0 and challenger is not None and challenger.index != 0:
        for _ in range(confirm_rounds):
            measure_one("confirm baseline", baseline)
            measure_one("confirm winner", challenger.tier)
        base, challenge = pooled(run.samples(baseline)), pooled(run.samples(challenger.tier))
        run.confirmation = (base, challenge)
        kept = select([base, challenge], run.bound_s, objective.min_gain)
        run.winner = (
            None if kept is None else (challenger if kept is challenge else run.measurements[0])
        )
    return run
