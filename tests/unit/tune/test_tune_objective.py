from __future__ import annotations

import math

import pytest
from tune_helpers import fixture_tier

from mandarin_tts.serving.tune.objective import Measurement, feasible, gain, p95_bound, select
from mandarin_tts.serving.tune.stats import LevelResult

TIER = fixture_tier("cpu-2")


def measured(index: int, throughput: float, p95: float, errors: int = 0) -> Measurement:
    result = LevelResult(
        concurrency=8,
        requests=20,
        errors=errors,
        wall_s=10.0,
        audio_s=throughput * 10.0,
        p50_s=p95 / 2,
        p95_s=p95,
        p99_s=p95,
    )
    return Measurement(index, "stage", TIER, result)


def test_default_bound_is_the_baseline_p95_with_slack() -> None:
    baseline = measured(0, 2.0, 4.0)
    assert p95_bound(baseline) == pytest.approx(4.4)
    assert p95_bound(baseline, slack=1.5) == pytest.approx(6.0)
    assert p95_bound(baseline, explicit_s=3.0) == 3.0
    failed = Measurement(0, "baseline", TIER, None, error="boom")
    assert math.isnan(p95_bound(failed))


def test_highest_throughput_under_the_bound_wins() -> None:
    runs = [measured(0, 2.0, 4.0), measured(1, 2.5, 4.3), measured(2, 3.0, 5.0)]
    bound = p95_bound(runs[0])
    assert [feasible(m, bound) for m in runs] == [True, True, False]
    assert select(runs, bound) is runs[1]
    assert gain(runs[1], runs[0]) == pytest.approx(1.25)


def test_errors_and_failures_are_never_chosen() -> None:
    runs = [
        measured(0, 2.0, 4.0),
        measured(1, 9.0, 1.0, errors=1),
        Measurement(2, "stage", TIER, None, error="did not start"),
    ]
    assert select(runs, 4.4) is runs[0]


def test_nothing_feasible_gives_none() -> None:
    runs = [measured(0, 2.0, 4.0), measured(1, 3.0, 5.0)]
    assert select(runs, 1.0) is None
    assert select(runs, math.nan) is None


def test_min_gain_keeps_the_baseline_against_small_wins() -> None:
    runs = [measured(0, 2.0, 4.0), measured(1, 2.08, 4.0)]
    assert select(runs, 4.4) is runs[1]
    assert select(runs, 4.4, min_gain=0.05) is runs[0]
    bigger = measured(1, 2.2, 4.0)
    assert select([runs[0], bigger], 4.4, min_gain=0.05) is bigger


def test_ties_go_to_the_earlier_candidate() -> None:
    runs = [measured(0, 2.0, 4.0), measured(1, 2.0, 3.0)]
    assert select(runs, 4.4) is runs[0]


def test_an_infeasible_baseline_can_be_beaten_by_a_feasible_candidate() -> None:
    runs = [measured(0, 2.0, 4.0), measured(1, 1.5, 2.0)]
    assert select(runs, 3.0) is runs[1]
