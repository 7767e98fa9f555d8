"""Fixtures for the vocoder tests: the pretrained generator and the built vocoder ONNX."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mandarin_tts.vocoder.hifigan import HiFiGANGenerator
from mandarin_tts.vocoder.torchscript_weights import load_generator, load_torchscript


@pytest.fixture(scope="session", autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def generator() -> HiFiGANGenerator:
    return load_generator()


@pytest.fixture(scope="session")
def scripted() -> torch.jit.ScriptModule:
    return load_torchscript()


@pytest.fixture(scope="session")
def vocoder_onnx(built_models: tuple[Path, Path]) -> Path:
    """The vocoder ONNX from the project build (rebuilt there when code or params changed)."""
    return built_models[1]


@pytest.fixture(scope="session")
def vocoder_session(vocoder_onnx: Path):  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(vocoder_onnx), options, providers=["CPUExecutionProvider"])
