"""The Python-backend adapter with a stand-in triton_python_backend_utils: one response per
request, INVALID_ARG for bad input, INTERNAL for the rest; and the thin model.py shim."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mandarin_tts.serving.render import MODEL_PY
from mandarin_tts.serving.steps import StepInputError
from mandarin_tts.serving.triton_glue import LoadedStep


class TritonError:
    INVALID_ARG, INTERNAL = "INVALID_ARG", "INTERNAL"

    def __init__(self, message: str, code: str) -> None:
        self.message, self.code = message, code


class Response:
    def __init__(self, output_tensors: Any = None, error: TritonError | None = None) -> None:
        self.output_tensors, self.error = output_tensors, error


class Tensor:
    def __init__(self, name: str, value: np.ndarray) -> None:
        self.name, self.value = name, value

    def as_numpy(self) -> np.ndarray:
        return self.value


def fake_pb_utils() -> types.ModuleType:
    module = types.ModuleType("triton_python_backend_utils")
    module.TritonError = TritonError  # type: ignore[attr-defined]
    module.InferenceResponse = Response  # type: ignore[attr-defined]
    module.Tensor = Tensor  # type: ignore[attr-defined]
    module.get_input_tensor_by_name = lambda request, name: request.get(name)  # type: ignore[attr-defined]
    return module


class EchoStep:
    """Doubles X; a negative X is a bad request; X == 13 breaks the whole batch."""

    def run_batch(self, batch: list[dict[str, Any]]) -> list[Any]:
        if any(item["X"] is not None and item["X"][0] == 13 for item in batch):
            raise RuntimeError("batch failed")
        return [
            StepInputError("negative") if item["X"][0] < 0 else {"Y": item["X"] * 2}
            for item in batch
        ]


@pytest.fixture()
def adapter(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setitem(sys.modules, "triton_python_backend_utils", fake_pb_utils())
    sys.modules.pop("mandarin_tts.serving.backend_adapter", None)
    module = importlib.import_module("mandarin_tts.serving.backend_adapter")
    monkeypatch.setattr(module, "load_step", lambda args: LoadedStep(EchoStep(), ("X",)))  # type: ignore[arg-type]
    model = module.TritonPythonModel()
    model.initialize({})
    yield model
    sys.modules.pop("mandarin_tts.serving.backend_adapter", None)


def request(x: float) -> dict[str, Tensor]:
    return {"X": Tensor("X", np.array([x]))}


def test_each_request_gets_its_own_response(adapter: Any) -> None:
    good, bad = request(2.0), request(-1.0)
    responses = adapter.execute([good, bad, good])
    assert [r.error.code if r.error else None for r in responses] == [None, "INVALID_ARG", None]
    (tensor,) = responses[0].output_tensors
    assert tensor.name == "Y" and tensor.value.tolist() == [4.0]


def test_a_failed_batch_fails_every_request_as_internal(adapter: Any) -> None:
    responses = adapter.execute([request(1.0), request(13.0)])
    assert [r.error.code for r in responses] == ["INTERNAL", "INTERNAL"]
    assert responses[0].error.message == "batch failed"


def test_the_rendered_model_py_only_reexports_the_adapter() -> None:
    text = MODEL_PY.read_text()
    assert "from mandarin_tts.serving.backend_adapter import TritonPythonModel" in text
    code = [line for line in text.splitlines() if line.strip() and not line.startswith(("#", '"'))]
    assert len(code) <= 5  # the adapter itself lives once, in backend_adapter.py
    committed = Path(__file__).resolve().parents[3] / "model_repository"
    for copy in committed.glob("*/1/model.py"):
        assert copy.read_text() == text, copy
