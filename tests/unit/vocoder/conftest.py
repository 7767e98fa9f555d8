"""Fixtures for the vocoder tests: the pretrained generator and a freshly exported ONNX."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mandarin_tts.vocoder.export import build_vocoder_onnx
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
def vocoder_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built by the same function the build calls, into a private folder."""
    path = tmp_path_factory.mktemp("vocoder") / "vocoder.onnx"
    build_vocoder_onnx(path)
    return path


@pytest.fixture(scope="session")
def vocoder_session(vocoder_onnx: Path):  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(vocoder_onnx), options, providers=["CPUExecutionProvider"])
