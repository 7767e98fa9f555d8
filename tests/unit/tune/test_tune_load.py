from __future__ import annotations

import threading
import time

from mandarin_tts.serving.tune.load import LevelPlan, run_level


def test_level_stops_after_min_requests_when_time_is_up() -> None:
    result = run_level(lambda text: 1.5, ["a", "b"], 3, LevelPlan(0.0, 7, 100))
    # Each of the 3 clients may have been handed one index before time was checked.
    assert 7 <= result.requests <= 7 + 3 - 1
    assert result.audio_s == 1.5 * result.requests
    assert result.errors == 0


def test_level_never_exceeds_max_requests() -> None:
    result = run_level(lambda text: 1.0, ["a"], 4, LevelPlan(3600.0, 1, 10))
    assert result.requests == 10


def test_concurrency_is_the_number_of_requests_in_flight() -> None:
    lock, in_flight, most = threading.Lock(), [0], [0]

    def synthesize(text: str) -> float:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.02)
        with lock:
            in_flight[0] -= 1
        return 1.0

    run_level(synthesize, ["a"], 4, LevelPlan(0.0, 16, 16))
    assert most[0] == 4


def test_failures_are_counted_not_timed() -> None:
    calls = iter(range(100))

    def synthesize(text: str) -> float:
        if next(calls) % 2:
            raise RuntimeError("overloaded")
        return 2.0

    result = run_level(synthesize, ["a"], 1, LevelPlan(0.0, 10, 10))
    assert result.requests == 5 and result.errors == 5
    assert result.audio_s == 10.0


def test_texts_are_used_in_order() -> None:
    seen: list[str] = []
    run_level(lambda text: seen.append(text) or 1.0, ["x", "y", "z"], 1, LevelPlan(0.0, 5, 5))
    assert seen == ["x", "y", "z", "x", "y"]
