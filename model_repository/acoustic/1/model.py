"""Triton Python-backend adapter; the work happens in mandarin_tts.serving.steps.

One response per request: a bad request gets its own INVALID_ARG error and never fails
the other requests of its batch.
"""

import os
import site

# The backend stub embeds an isolated interpreter that ignores PYTHONPATH; the launcher
# puts the project and its site-packages there, so add them explicitly.
for _path in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    if _path:
        site.addsitedir(_path)

import triton_python_backend_utils as pb_utils  # noqa: E402

from mandarin_tts.serving.steps import StepInputError  # noqa: E402
from mandarin_tts.serving.triton_glue import load_step  # noqa: E402


def _error(exc):
    code = (
        pb_utils.TritonError.INVALID_ARG
        if isinstance(exc, StepInputError)
        else pb_utils.TritonError.INTERNAL
    )
    return pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc), code))


class TritonPythonModel:
    def initialize(self, args):
        self.loaded = load_step(args)

    def _inputs(self, request):
        inputs = {}
        for name in self.loaded.input_names:
            tensor = pb_utils.get_input_tensor_by_name(request, name)
            inputs[name] = None if tensor is None else tensor.as_numpy()
        return inputs

    def execute(self, requests):
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
