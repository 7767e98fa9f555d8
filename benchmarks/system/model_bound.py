"""What the served models give on this machine, with no server and no glue around them.

Each ONNX model the tier serves runs alone on real inputs (acoustic: the symbol ids of
the first evaluation sentences; vocoder: their acoustic mels) in the layouts a deployment
could choose: one session using every core, one single-thread session per core running
in parallel, and batches of 4 equal-length items. The best layout is that stage's
ceiling. The stages share the same cores, so scheduling and batching cannot take the
pipeline far beyond 1 / sum(1 / stage ceiling) audio seconds per second. It is an
estimate, not a strict bound: it is measured on a few sentences in a few seconds, with the
same run-to-run noise (10-15 % here) as the load table, and the text frontend's Python
work is left out.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mandarin_tts import contract as c

Feed = dict[str, np.ndarray]
BATCH = 4


@dataclass(frozen=True)
class Layout:
    sessions: int  # run in parallel, one thread each feeding its own session
    threads: int  # intra-op threads per session
    batch: int  # equal-length copies per run

    @property
    def label(self) -> str:
        return f"{self.sessions}x{self.threads} thr, b{self.batch}"


def layouts(cores: int) -> tuple[Layout, ...]:
    return (Layout(1, cores, 1), Layout(cores, 1, 1), Layout(1, cores, BATCH))


@dataclass(frozen=True)
class StageBound:
    name: str
    throughput: dict[str, float]  # layout label -> audio seconds per second

    @property
    def best(self) -> tuple[str, float]:
        label = max(self.throughput, key=self.throughput.__getitem__)
        return label, self.throughput[label]


@dataclass(frozen=True)
class ModelBound:
    stages: tuple[StageBound, ...]

    @property
    def pipeline(self) -> float:
        """Audio seconds per second the stages allow together on shared cores."""
        return 1.0 / sum(1.0 / stage.best[1] for stage in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": {s.name: s.throughput for s in self.stages},
            "pipeline": self.pipeline,
        }


def batched(feed: Feed, batch: int) -> Feed:
    """`batch` copies of a one-item feed (equal lengths: no padding anywhere)."""
    return {name: np.repeat(value, batch, axis=0) for name, value in feed.items()}


def throughput(
    make_session: Callable[[int], Any],
    feeds: Sequence[Feed],
    audio_s: float,
    layout: Layout,
    seconds: float,
) -> float:
    """Audio seconds per wall second: each parallel session runs whole passes over
    `feeds` (whose items make `audio_s` seconds of audio) until `seconds` have passed."""
    sessions = [make_session(layout.threads) for _ in range(layout.sessions)]
    runs = [batched(feed, layout.batch) for feed in feeds]
    for session in sessions:
        session.run(None, runs[0])  # warm-up outside the clock
    passes = [0] * layout.sessions
    start = time.perf_counter()

    def worker(index: int) -> None:
        while time.perf_counter() - start < seconds:
            for run in runs:
                sessions[index].run(None, run)
            passes[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(layout.sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(passes) * audio_s * layout.batch / (time.perf_counter() - start)


def measure_model_bound(sentences: int = 4, seconds: float = 4.0) -> ModelBound:
    from benchmarks._synthesis import (
        OnnxAcoustic,
        onnx_session,
        served_onnx_paths,
        symbol_ids_function,
    )
    from benchmarks.micro.intelligibility import read_sentences
    from mandarin_tts.paths import EVAL_SENTENCES

    acoustic_path, vocoder_path = served_onnx_paths()
    _, ids_of = symbol_ids_function()
    texts = read_sentences(EVAL_SENTENCES)[:sentences]
    ids = [ids_of(text) for text in texts]
    acoustic = OnnxAcoustic(acoustic_path)
    mels = [acoustic(item) for item in ids]
    audio_s = sum(mel.shape[0] for mel in mels) * c.ACOUSTIC_HOP / c.ACOUSTIC_SAMPLE_RATE
    one = np.ones([1], np.float32)
    acoustic_feeds = [
        {
            c.AC_IN_IDS: item[None],
            c.AC_IN_LENGTHS: np.array([item.size], np.int64),
            c.AC_IN_SPEED: one,
            c.AC_IN_PITCH: one,
            c.AC_IN_ENERGY: one,
        }
        for item in ids
    ]
    vocoder_feeds = [
        {c.VOC_IN_MEL: mel[None], c.VOC_IN_MEL_LENGTHS: np.array([mel.shape[0]], np.int64)}
        for mel in mels
    ]
    cores = os.cpu_count() or 1
    stages = []
    for name, path, feeds in (
        ("acoustic", acoustic_path, acoustic_feeds),
        ("vocoder", vocoder_path, vocoder_feeds),
    ):
        measured = {
            layout.label: throughput(
                functools.partial(onnx_session, path), feeds, audio_s, layout, seconds
            )
            for layout in layouts(cores)
        }
        stages.append(StageBound(name, measured))
    return ModelBound(tuple(stages))


def bound_text(bound: ModelBound) -> str:
    parts = []
    for stage in bound.stages:
        label, best = stage.best
        others = ", ".join(f"{k} {v:.2f}" for k, v in stage.throughput.items())
        parts.append(f"  {stage.name}: best {best:.2f} audio-s/s ({label}); all: {others}")
    return "\n".join(
        [
            "served models alone, no server (audio-s/s; stages share the cores):",
            *parts,
            f"  -> the stages together, however served: about {bound.pipeline:.2f} audio-s/s"
            " (an estimate with the table's noise)",
        ]
    )
