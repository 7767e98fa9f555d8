"""The served-model bound: stage ceilings combine like work on shared cores."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.system.model_bound import (
    Layout,
    ModelBound,
    StageBound,
    batched,
    bound_text,
    layouts,
    throughput,
)


def test_pipeline_bound_adds_the_stages_work() -> None:
    # 1 audio second costs 1/20 s of acoustic and 1/5 s of vocoder work: at most 4 per s.
    bound = ModelBound(
        (
            StageBound("acoustic", {"a": 10.0, "b": 20.0}),
            StageBound("vocoder", {"a": 5.0, "b": 2.0}),
        )
    )
    assert bound.stages[0].best == ("b", 20.0)
    assert bound.pipeline == pytest.approx(4.0)
    text = bound_text(bound)
    assert "about 4.00 audio-s/s" in text and "best 5.00" in text
    assert bound.to_dict()["pipeline"] == pytest.approx(4.0)


def test_layouts_cover_threads_parallel_sessions_and_batches() -> None:
    assert layouts(2) == (Layout(1, 2, 1), Layout(2, 1, 1), Layout(1, 2, 4))


def test_batched_copies_every_input_along_the_batch_axis() -> None:
    feed = {"mel": np.zeros((1, 7, 80), np.float32), "mel_lengths": np.array([7])}
    out = batched(feed, 4)
    assert out["mel"].shape == (4, 7, 80) and out["mel_lengths"].tolist() == [7, 7, 7, 7]


class CountingSession:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def run(self, outputs: object, feed: dict[str, np.ndarray]) -> None:
        self.batches.append(len(feed["x"]))


def test_throughput_counts_whole_passes_of_every_session() -> None:
    sessions: list[CountingSession] = []

    def make(threads: int) -> CountingSession:
        sessions.append(CountingSession())
        return sessions[-1]

    feeds = [{"x": np.zeros((1, 3))}, {"x": np.zeros((1, 5))}]
    rate = throughput(make, feeds, audio_s=2.0, layout=Layout(2, 1, 4), seconds=0.05)
    assert len(sessions) == 2 and rate > 0
    assert all(set(s.batches) == {4} for s in sessions)
    # Each session warmed up once, then ran whole passes of 2 feeds.
    assert all((len(s.batches) - 1) % 2 == 0 for s in sessions)
