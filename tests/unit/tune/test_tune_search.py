from __future__ import annotations

from dataclasses import replace

import pytest
from tune_helpers import fixture_tier

from mandarin_tts.contract import MODEL_ACOUSTIC, MODEL_VOCODER
from mandarin_tts.serving.tiers import Tier
from mandarin_tts.serving.tune.objective import Measurement
from mandarin_tts.serving.tune.search import Objective, pooled, tune
from mandarin_tts.serving.tune.space import (
    ModelAxes,
    default_space,
    host_threads,
    settings_key,
    with_model,
)
from mandarin_tts.serving.tune.stats import LevelResult

CPU2 = fixture_tier("cpu-2")


def synthetic(tier: Tier) -> tuple[float, float]:
    """(throughput, p95): a made-up machine where acoustic instances help, vocoder
    instances and threads hurt, and long batcher delays cost latency."""
    voc, ac = tier.models[MODEL_VOCODER], tier.models[MODEL_ACOUSTIC]
    throughput = 2.0 + 0.3 * ac.instances - 0.1 * voc.instances - 0.2 * voc.intra_op_threads
    p95 = 4.0 + sum(m.max_queue_delay_us for m in tier.models.values()) / 10_000
    return throughput, p95


class FakeMeter:
    def __init__(self) -> None:
        self.calls: list[Tier] = []

    def __call__(self, index: int, stage: str, tier: Tier) -> Measurement:
        self.calls.append(tier)
        throughput, p95 = synthetic(tier)
        result = LevelResult(8, 20, 0, 10.0, throughput * 10.0, p95 / 2, p95, p95)
        return Measurement(index, stage, tier, result)


def test_baseline_first_no_repeats_and_the_best_feasible_wins() -> None:
    meter = FakeMeter()
    space = default_space(CPU2, cores=2, quick=True)
    run = tune(CPU2, space, meter)
    assert run.measurements[0].stage == "baseline"
    assert settings_key(meter.calls[0]) == settings_key(CPU2)
    keys = [settings_key(t) for t in meter.calls]
    assert len(set(keys)) == len(keys)
    assert all(host_threads(t) <= space.thread_limit for t in meter.calls[1:])
    assert [m.index for m in run.measurements] == list(range(len(run.measurements)))
    assert run.bound_s == run.measurements[0].p95_s * 1.1
    feasible = [m for m in run.measurements if m.p95_s <= run.bound_s]
    assert run.winner is max(feasible, key=lambda m: m.throughput)
    assert run.winner.throughput > run.measurements[0].throughput


def test_later_models_are_tuned_around_the_incumbent() -> None:
    # Once the vocoder drops to 1 intra-op thread, a second acoustic instance fits in the
    # 4-thread budget; with the baseline as incumbent it would have been pruned.
    meter = FakeMeter()
    run = tune(CPU2, default_space(CPU2, cores=2, quick=True), meter)
    acoustic = [m for m in run.measurements if m.stage == f"{MODEL_ACOUSTIC}/compute"]
    assert acoustic, "the acoustic compute stage measured something"
    assert all(m.tier.models[MODEL_VOCODER].intra_op_threads == 1 for m in acoustic)
    assert run.winner is not None
    assert run.winner.tier.models[MODEL_ACOUSTIC].instances == 2


def test_max_candidates_bounds_the_run() -> None:
    meter = FakeMeter()
    run = tune(CPU2, default_space(CPU2, cores=2, quick=True), meter, max_candidates=2)
    assert len(meter.calls) == 2
    assert run.stopped_early
    assert run.winner is not None


def test_a_strict_bound_keeps_nothing_and_min_gain_keeps_the_baseline() -> None:
    space = default_space(CPU2, cores=2, quick=True)
    assert tune(CPU2, space, FakeMeter(), Objective(p95_max_s=0.1)).winner is None
    run = tune(CPU2, space, FakeMeter(), Objective(min_gain=10.0))
    assert run.winner is run.measurements[0]


def test_confirmation_keeps_a_winner_that_wins_again() -> None:
    meter = FakeMeter()
    space = default_space(CPU2, cores=2, quick=True)
    plain = tune(CPU2, space, FakeMeter())
    run = tune(CPU2, space, meter, confirm_rounds=2)
    assert [m.stage for m in run.measurements[-4:]] == ["confirm baseline", "confirm winner"] * 2
    assert run.confirmation is not None
    assert run.winner is not None and plain.winner is not None
    assert settings_key(run.winner.tier) == settings_key(plain.winner.tier)
    assert run.winner.index == plain.winner.index  # the original measurement, not a repeat


def test_confirmation_drops_a_lucky_winner() -> None:
    # The delay change is really worse (x0.5) but its one search sample was lucky (x1.5).
    lucky = with_model(CPU2, MODEL_VOCODER, max_queue_delay_us=4_000)

    class LuckyOnce(FakeMeter):
        def __call__(self, index: int, stage: str, tier: Tier) -> Measurement:
            m = super().__call__(index, stage, tier)
            if settings_key(tier) != settings_key(lucky) or m.result is None:
                return m
            factor = 0.5 if stage == "confirm winner" else 1.5
            return replace(m, result=replace(m.result, audio_s=m.result.audio_s * factor))

    space = replace(
        default_space(CPU2, cores=2, quick=True),
        models={MODEL_VOCODER: ModelAxes(max_queue_delay_us=(4_000,))},
    )
    unconfirmed = tune(CPU2, space, LuckyOnce())
    assert unconfirmed.winner is not None and unconfirmed.winner.index == 1
    run = tune(CPU2, space, LuckyOnce(), confirm_rounds=2)
    assert run.confirmation is not None
    base, challenger = run.confirmation
    assert challenger.throughput == pytest.approx(base.throughput * (1.5 + 0.5 + 0.5) / 3)
    assert run.winner is run.measurements[0]


def test_pooled_sums_audio_and_time_and_averages_percentiles() -> None:
    results = [
        LevelResult(8, 10, 0, 10.0, 20.0, 1.0, 2.0, 3.0),
        LevelResult(8, 30, 1, 30.0, 30.0, 3.0, 4.0, 5.0),
    ]
    merged = pooled([Measurement(5, "s", CPU2, r) for r in results])
    assert merged.result is not None
    assert merged.index == 5 and merged.result.requests == 40 and merged.result.errors == 1
    assert merged.throughput == 50.0 / 40.0
    assert merged.p95_s == 3.0


def test_a_spent_time_budget_measures_only_the_baseline() -> None:
    meter = FakeMeter()
    run = tune(CPU2, default_space(CPU2, cores=2, quick=True), meter, budget_s=0.0)
    assert len(meter.calls) == 1 and run.stopped_early
    assert run.winner is run.measurements[0]
