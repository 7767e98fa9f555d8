"""The overload scenario's pure parts: arrivals, goodput, per-level statistics, table, target."""

from __future__ import annotations

import math
import statistics

import numpy
import pytest

from benchmarks.system.overload_stacks import speed_for, unique_text
from benchmarks.system.overload_stats import (
    LevelStats,
    Outcome,
    keep_target,
    level_stats,
    overload_table,
    percentile,
    poisson_schedule,
)


def test_poisson_schedule_has_the_asked_rate_and_stays_in_the_window() -> None:
    offsets = poisson_schedule(5.0, 400.0, seed=1)
    assert all(0 < t < 400.0 for t in offsets)
    assert offsets == sorted(offsets)
    assert len(offsets) / 400.0 == pytest.approx(5.0, rel=0.05)
    gaps = [b - a for a, b in zip(offsets, offsets[1:], strict=False)]
    # Exponential gaps: the standard deviation equals the mean (unlike a fixed period).
    assert statistics.stdev(gaps) == pytest.approx(statistics.mean(gaps), rel=0.1)


def test_poisson_schedule_is_reproducible_and_differs_by_seed() -> None:
    assert poisson_schedule(2.0, 30.0, seed=4) == poisson_schedule(2.0, 30.0, seed=4)
    assert poisson_schedule(2.0, 30.0, seed=4) != poisson_schedule(2.0, 30.0, seed=5)


@pytest.mark.parametrize(("rate", "duration"), [(0.0, 10.0), (1.0, 0.0), (-1.0, 5.0)])
def test_poisson_schedule_rejects_a_zero_rate_or_window(rate: float, duration: float) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        poisson_schedule(rate, duration)


OUTCOMES = [
    Outcome(0.1, 1.0, 200, audio_s=3.0),
    Outcome(0.2, 9.9, 200, audio_s=2.0),
    Outcome(0.3, 10.5, 200, audio_s=4.0),  # late: no goodput
    Outcome(0.4, 0.01, 429),
    Outcome(0.5, 0.03, 503),
    Outcome(0.6, 60.0, None, error="client timeout"),
    Outcome(0.7, 0.2, 500, error="boom"),
]


def test_goodput_counts_only_answers_within_the_slo() -> None:
    stats = level_stats("ours", 2, 4.0, 10.0, OUTCOMES, 512.0, slo_s=10.0)
    assert stats.goodput == pytest.approx((3.0 + 2.0) / 10.0)
    assert (stats.sent, stats.accepted, stats.within_slo) == (7, 3, 2)
    assert (stats.refused, stats.errors) == (2, 2)
    assert stats.accepted_p50_s == pytest.approx(9.9)
    assert stats.refusal_p50_s == pytest.approx(0.02)
    assert set(stats.error_examples) == {"client timeout", "boom"}


def test_a_refusal_with_a_defect_is_an_error() -> None:
    stats = level_stats("x", 1, 1.0, 1.0, [Outcome(0, 0.1, 429, error="no Retry-After")], 0.0)
    assert (stats.refused, stats.errors) == (0, 1)


def test_percentile_interpolates_and_is_nan_when_empty() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([5.0], 99) == 5.0
    assert math.isnan(percentile([], 50))


def _level(system: str, multiple: float, good: float) -> LevelStats:
    outcomes = [Outcome(0, 1.0, 200, audio_s=good)]
    return level_stats(system, multiple, multiple, 1.0, outcomes, 100.0)


def test_keep_target_compares_the_top_level_with_1x() -> None:
    levels = [_level("ours", 1, 10.0), _level("ours", 2, 9.5), _level("ours", 3, 9.2)]
    levels.append(_level("flask", 3, 1.0))
    target = keep_target(levels, "ours")
    assert target is not None and target.met
    assert target.ratio == pytest.approx(0.92)
    missed = keep_target([_level("ours", 1, 10.0), _level("ours", 3, 8.9)], "ours")
    assert missed is not None and not missed.met and "NOT met" in missed.text()
    assert keep_target([_level("ours", 1, 1.0)], "ours") is None


def test_table_has_one_row_per_level_and_dashes_for_missing_latencies() -> None:
    refused_only = level_stats("flask+gunicorn", 3, 9.0, 1.0, [Outcome(0, 0.01, 429)], 50.0)
    table = overload_table([level_stats("ours", 1, 3.0, 10.0, OUTCOMES, 512.0), refused_only])
    lines = table.splitlines()
    assert len(lines) == 3 and "goodput" in lines[0]
    assert "flask+gunicorn" in lines[2] and "3x" in lines[2] and " - " in lines[2]


def test_speeds_do_not_repeat_within_20000_requests_and_stay_near_one() -> None:
    speeds = [float(numpy.float32(speed_for(i))) for i in range(20_000)]  # as Triton sees it
    assert len(set(speeds)) == 20_000
    assert all(abs(s - 1.0) <= 0.01 + 1e-9 for s in speeds)


def test_unique_texts_keep_the_sentence_and_never_repeat() -> None:
    texts = {unique_text("欢迎使用。", n) for n in range(500)}
    assert len(texts) == 500 and all(t.endswith("欢迎使用。") for t in texts)
