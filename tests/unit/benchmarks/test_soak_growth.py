"""The soak run's growth rule: medians of a window after warm-up and of the last window."""

from __future__ import annotations

import pytest

from benchmarks.soak.growth import Sample, all_growth, growth, growth_table


def series(values: list[float], fds: list[int] | None = None, step: float = 10.0) -> list[Sample]:
    fds = fds or [30] * len(values)
    return [Sample(i * step, v, f) for i, (v, f) in enumerate(zip(values, fds, strict=True))]


def test_flat_after_warmup_passes_even_with_a_big_warmup_rise() -> None:
    samples = series([100, 400, 500, 500, 505, 498, 502, 500, 501, 499])
    result = growth("frontend", samples, warmup_s=20, window_s=20)
    assert result.rss_start_mb == 500 and abs(result.rss_growth_pct) < 1
    assert not result.failed


def test_steady_growth_beyond_ten_percent_fails() -> None:
    samples = series([500, 500, 500, 520, 540, 560, 580, 600, 620, 640])
    result = growth("stub:vocoder#1", samples, warmup_s=0, window_s=20)
    assert result.rss_growth_pct == pytest.approx((620 - 500) / 500 * 100)
    assert result.failed


def test_one_spike_does_not_decide_the_end_window() -> None:
    samples = series([500, 500, 500, 500, 500, 500, 500, 500, 900, 500, 500])
    assert not growth("tritonserver#1", samples, warmup_s=0, window_s=20).failed


def test_fds_need_both_the_percentage_and_the_slack() -> None:
    few = series([100.0] * 10, fds=[20, 20, 20, 20, 20, 22, 23, 23, 23, 23])
    assert not growth("frontend", few, 0, 20).failed  # +15 % but only 3 descriptors
    leak = series([100.0] * 10, fds=[20, 20, 20, 25, 30, 35, 40, 45, 50, 55])
    result = growth("frontend", leak, 0, 20)
    assert result.failed and result.fds_growth_pct > 100


def test_too_short_a_run_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        growth("frontend", series([1.0, 1.0, 1.0]), warmup_s=10, window_s=10)


def test_a_process_that_ended_early_is_reported_not_judged() -> None:
    rows, problems = all_growth(
        {"frontend#1": series([100.0] * 10), "stub:acoustic#2": series([100.0] * 3)}, 10, 20
    )
    assert [r.process for r in rows] == ["frontend#1"]
    assert len(problems) == 1 and "no samples" in problems[0]
    assert "ok" in growth_table(rows)
