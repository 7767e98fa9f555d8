"""Triton Python-backend adapter; the work happens in mandarin_tts.serving.steps.

Every model directory's `model.py` (serving/triton_models/model.py, copied by the renderer)
only fixes sys.path and re-exports `TritonPythonModel` from here, so the adapter exists once.
One response per request: a bad request gets its own INVALID_ARG error and never fails
the other requests of its batch.
"""

from __future__ import annotations

from typing import Any

import triton_python_backend_utils as pb_utils  # only inside Triton's Python backend stub

from mandarin_tts.serving.steps import StepInputError
from mandarin_tts.serving.triton_glue import load_step


def _error(exc: Exception) -> Any:
    code = (
        pb_utils.TritonError.INVALID_ARG
        if isinstance(exc, StepInputError)
        else pb_utils.TritonError.INTERNAL
    )
    return pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc), code))


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        self.loaded = load_step(args)

    def _inputs(self, request: Any) -> dict[str, Any]:
        inputs = {}
        for name in self.loaded.input_names:
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            inputs[name] = None if tensor is None else tensor.as_numpy()
        return inputs

    def execute(self, requests: list[Any]) -> list[Any]:
        try:
            results = self.loaded.step.run_batch([self._inputs(r) for r in requests])
        except Exception as exc:  # noqa: BLE001 - still one response per request
            return [_error(exc) for _ in requests]
        responses = []
        for result in results:
            try:
                if isinstance(result, Exception):
                    responses.append(_error(result))
                    continue
                tensors = [pb_utils.Tensor(name, value) for name, value in result.items()]
                responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
            except Exception as exc:  # noqa: BLE001
                responses.append(_error(exc))
        return responses
