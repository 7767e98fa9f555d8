"""What the two Triton users share: one timed `tts` ensemble call per request, reported once.

The protocol wrappers (triton_http.py, triton_grpc.py) only build their client and say how
one `infer` is called.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from loadtest.users.reporting import Reporter
from loadtest.users.textmix import Text
from mandarin_tts import contract as c
from mandarin_tts.serving.tts_inputs import audio_seconds, build_inputs


class TritonEnsembleClient:
    client_module: ModuleType  # tritonclient.grpc or tritonclient.http
    request_type: str  # locust's request type column
    target: str  # request names are "<target> <text kind>"

    def __init__(
        self, url: str, reporter: Reporter, model: str = c.MODEL_ENSEMBLE, timeout_s: float = 300.0
    ) -> None:
        self.reporter = reporter
        self.model = model
        self.timeout_s = timeout_s
        self.client = self.connect(url)

    def connect(self, url: str) -> Any:
        """The protocol's InferenceServerClient for `url`."""
        raise NotImplementedError

    def infer(self, inputs: list[Any]) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        self.client.close()

    def synthesize(self, text: Text, speed: float | None = None) -> None:
        name = f"{self.target} {text.kind}"
        inputs = build_inputs(self.client_module, text.text, speed)
        started = time.perf_counter()
        try:
            seconds, nbytes = audio_seconds(self.infer(inputs))
        except Exception as error:  # every failure is a failed request, not a crashed user
            self.reporter.failure(self.request_type, name, started, error)
            return
        # Non-streaming: the first audio arrives with the last.
        elapsed = time.perf_counter() - started
        self.reporter.success(self.request_type, name, started, elapsed, seconds, nbytes)
