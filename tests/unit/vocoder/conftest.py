"""Vocoder unit tests: committed bridge parameters, mels and synthetic data only (the real
weights and the built ONNX files are tested in tests/integration/models)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)
