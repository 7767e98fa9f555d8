"""Admission slots and the Retry-After hint derived from recent service times."""

from __future__ import annotations

import pytest

from frontend.admission import MAX_RETRY_S, MIN_RETRY_S, Admission


def test_slots_are_limited_and_given_back() -> None:
    admission = Admission(max_active=2)
    assert admission.try_enter() and admission.try_enter()
    assert not admission.try_enter()
    admission.leave(3.0)
    assert admission.active == 1
    assert admission.try_enter()


def test_leave_without_enter_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        Admission(max_active=1).leave(1.0)


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError):
        Admission(max_active=0)


def test_hint_is_the_minimum_before_any_request_completes() -> None:
    assert Admission(max_active=4).retry_after_s() == MIN_RETRY_S


def test_hint_is_service_time_over_slots() -> None:
    # 4 slots, requests of 10 s: one completes about every 2.5 s -> 3 whole seconds.
    admission = Admission(max_active=4)
    admission.try_enter()
    admission.leave(10.0)
    assert admission.retry_after_s() == 3


def test_hint_follows_recent_service_times() -> None:
    admission = Admission(max_active=1)
    for _ in range(50):
        admission.try_enter()
        admission.leave(2.0)
    assert admission.retry_after_s() == 2
    for _ in range(50):
        admission.try_enter()
        admission.leave(8.0)
    assert admission.retry_after_s() == 8


def test_failed_requests_do_not_move_the_hint() -> None:
    admission = Admission(max_active=1)
    admission.try_enter()
    admission.leave(6.0)
    for _ in range(20):
        admission.try_enter()
        admission.leave(None)  # a quick 4xx
    assert admission.retry_after_s() == 6


def test_hint_is_clamped() -> None:
    admission = Admission(max_active=1)
    admission.try_enter()
    admission.leave(3600.0)
    assert admission.retry_after_s() == MAX_RETRY_S
