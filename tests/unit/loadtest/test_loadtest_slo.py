from __future__ import annotations

import math

from loadtest.users.slo import Observed, SloGate, describe, evaluate

GOOD = Observed(requests=100, failures=0, p95_ms=800.0, first_audio_p95_ms=300.0)


def test_passes_within_all_limits() -> None:
    gate = SloGate(max_error_ratio=0.01, max_p95_ms=1000, max_first_audio_p95_ms=500)
    result = evaluate(gate, GOOD)
    assert result.passed and result.exit_code == 0 and result.violations == []


def test_error_ratio_over_budget_fails() -> None:
    observed = Observed(requests=100, failures=2, p95_ms=800.0, first_audio_p95_ms=300.0)
    result = evaluate(SloGate(max_error_ratio=0.01), observed)
    assert not result.passed and result.exit_code == 1
    assert "error ratio" in result.violations[0]


def test_error_ratio_at_budget_passes() -> None:
    observed = Observed(requests=100, failures=1, p95_ms=800.0, first_audio_p95_ms=300.0)
    assert evaluate(SloGate(max_error_ratio=0.01), observed).passed


def test_p95_limits_fail_when_exceeded() -> None:
    result = evaluate(SloGate(max_p95_ms=1.0, max_first_audio_p95_ms=1.0), GOOD)
    assert not result.passed
    assert len(result.violations) == 2


def test_unset_latency_limits_are_not_gated() -> None:
    slow = Observed(requests=10, failures=0, p95_ms=1e9, first_audio_p95_ms=1e9)
    assert evaluate(SloGate(), slow).passed


def test_too_few_requests_fail() -> None:
    empty = Observed(requests=0, failures=0, p95_ms=0.0, first_audio_p95_ms=math.nan)
    assert not evaluate(SloGate(), empty).passed
    assert evaluate(SloGate(min_requests=0), empty).passed


def test_missing_first_audio_fails_a_first_audio_limit() -> None:
    observed = Observed(requests=5, failures=5, p95_ms=10.0, first_audio_p95_ms=math.nan)
    result = evaluate(SloGate(max_error_ratio=1.0, max_first_audio_p95_ms=1000), observed)
    assert not result.passed
    assert "n/a" in describe(SloGate(), observed, result)
