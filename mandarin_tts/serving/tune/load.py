"""Closed-loop load: N client threads, each sending its next text as soon as one returns."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mandarin_tts.paths import EVAL_SENTENCES
from mandarin_tts.serving.tune.stats import LevelResult, summarize

# One request: text -> seconds of audio it produced. Must be safe to call from many threads.
Synthesize = Callable[[str], float]


def eval_sentences() -> list[str]:
    """The held-out eval sentences: the default text mix of the bench and the tuner."""
    return [s.strip() for s in EVAL_SENTENCES.read_text("utf-8").splitlines() if s.strip()]


@dataclass(frozen=True)
class LevelPlan:
    """When to stop a level: after `seconds`, but never before `min_requests` completed."""

    seconds: float
    min_requests: int
    max_requests: int


def run_level(
    synthesize: Synthesize, texts: Sequence[str], concurrency: int, plan: LevelPlan
) -> LevelResult:
    """Run `concurrency` threads until the plan says stop; requests in flight finish."""
    lock = threading.Lock()
    counter = itertools.count()
    latencies: list[float] = []
    audio = [0.0]
    errors = [0]
    start = time.perf_counter()

    def next_index() -> int | None:
        with lock:
            issued = next(counter)
            late = time.perf_counter() - start >= plan.seconds
            if issued >= plan.max_requests or (late and issued >= plan.min_requests):
                return None
            return issued

    def client() -> None:
        while (index := next_index()) is not None:
            text = texts[index % len(texts)]
            t0 = time.perf_counter()
            try:
                seconds = synthesize(text)
            except Exception:  # noqa: BLE001 - counted and reported, the level goes on
                with lock:
                    errors[0] += 1
                continue
            with lock:
                latencies.append(time.perf_counter() - t0)
                audio[0] += seconds

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summarize(concurrency, latencies, audio[0], time.perf_counter() - start, errors[0])
