"""Admission slots and the Retry-After hint derived from recent service times."""

from __future__ import annotations

import pytest

from frontend.admission import MAX_RETRY_S, MIN_RETRY_S, Admission, request_chars


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


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _served(admission: Admission, clock: Clock, chars: int, seconds: float) -> None:
    assert admission.try_enter(chars)
    clock.now += seconds
    admission.leave(seconds, chars)


def test_throughput_is_characters_per_busy_second() -> None:
    clock = Clock()
    admission = Admission(max_active=8, max_backlog_s=6.0, clock=clock)
    assert admission.chars_per_s() is None  # nothing measured: slots only
    for _ in range(4):
        _served(admission, clock, 20, 2.0)  # 10 characters a second
        clock.now += 100.0  # idle time is not capacity
    assert admission.chars_per_s() is None  # the window holds at most one of them
    for _ in range(4):
        _served(admission, clock, 20, 2.0)
    assert admission.chars_per_s() == pytest.approx(10.0)


def test_work_beyond_the_backlog_limit_is_refused_at_once() -> None:
    clock = Clock()
    admission = Admission(max_active=16, max_backlog_s=6.0, clock=clock)
    for _ in range(4):
        _served(admission, clock, 20, 2.0)  # 10 characters a second
    assert admission.admit(200) is None  # an idle service takes even a 20 s paragraph
    reason = admission.admit(30)  # 20 s of work ahead of it
    assert reason is not None and "about 20 s more (limit 6 s)" in reason
    assert admission.active == 1 and admission.retry_after_s() == 14
    clock.now += 20.0
    admission.leave(20.0, 200)  # still about 10 characters a second (260 in 24 s)
    for _ in range(3):  # 0, 30 and 60 characters ahead: within 6 s
        assert admission.admit(30) is None
    assert admission.admit(30) is not None  # 90 characters ahead: more than 8 s


def test_a_request_that_cannot_meet_its_deadline_is_refused() -> None:
    clock = Clock()
    admission = Admission(max_active=16, max_backlog_s=0.0, clock=clock)  # no backlog limit
    for _ in range(4):
        _served(admission, clock, 20, 2.0)
    assert admission.admit(40) is None  # 4 s in flight
    reason = admission.admit(30, deadline_s=5.0)  # 4 s ahead + 3 s of its own
    assert reason is not None and "more than its 5 s deadline" in reason
    assert admission.admit(30, deadline_s=8.0) is None


def test_spoken_characters_of_a_body() -> None:
    assert request_chars({"text": "你好，世界"}) == 5
    assert request_chars({"ssml": "<speak>你好<break time='1s'/>世界</speak>"}) == 4
    assert request_chars({"input": "hello", "voice": "alloy"}) == 5
    assert request_chars({"text": 5}) == 1  # malformed: validated later, counted as 1


def test_a_long_text_puts_only_its_window_ahead_of_a_newcomer() -> None:
    clock = Clock()
    admission = Admission(max_active=16, max_backlog_s=6.0, ahead_cap_chars=40, clock=clock)
    for _ in range(4):
        _served(admission, clock, 20, 2.0)  # 10 characters a second
    assert admission.admit(1000) is None  # a paragraph: 100 s of work, 4 s ahead of others
    assert admission.in_flight_chars == 40
    assert admission.admit(20) is None  # a short prompt behind it is still served
    assert admission.admit(10) is None  # 6 s ahead: at the limit
    assert admission.admit(10) is not None
    admission.leave(None, 1000)
    assert admission.in_flight_chars == 30
    # Its own deadline still counts all of its own work.
    assert admission.admit(1000, deadline_s=60.0) is not None
