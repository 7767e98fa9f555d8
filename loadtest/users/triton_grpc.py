"""Locust client wrapper for Triton's gRPC endpoint (one blocking `infer` per request).

gRPC's C core blocks the whole gevent hub unless `grpc.experimental.gevent.init_gevent()`
ran before the first channel was created: `enable_gevent()` does that once per process
(the locustfile calls it at import). Without it, 4 users issue their calls one at a time.
"""

from __future__ import annotations

import time

import tritonclient.grpc as grpcclient

from loadtest.users.reporting import Reporter
from loadtest.users.textmix import Text
from loadtest.users.triton_inputs import audio_seconds, build_inputs
from mandarin_tts import contract as c

REQUEST_TYPE = "gRPC"
TARGET = "triton-grpc"
_gevent_enabled = False


def enable_gevent() -> None:
    global _gevent_enabled
    if not _gevent_enabled:
        from grpc.experimental import gevent as grpc_gevent

        grpc_gevent.init_gevent()
        _gevent_enabled = True


class TritonGrpcClient:
    def __init__(
        self, url: str, reporter: Reporter, model: str = c.MODEL_ENSEMBLE, timeout_s: float = 300.0
    ) -> None:
        if not _gevent_enabled:
            raise RuntimeError("call triton_grpc.enable_gevent() before creating gRPC clients")
        self.client = grpcclient.InferenceServerClient(url.removeprefix("grpc://"))
        self.reporter = reporter
        self.model = model
        self.timeout_s = timeout_s

    def synthesize(self, text: Text, speed: float | None = None) -> None:
        name = f"{TARGET} {text.kind}"
        inputs = build_inputs(grpcclient, text.text, speed)
        started = time.perf_counter()
        try:
            result = self.client.infer(self.model, inputs, client_timeout=self.timeout_s)
            seconds, nbytes = audio_seconds(result)
        except Exception as error:  # every failure is a failed request, not a crashed user
            self.reporter.failure(REQUEST_TYPE, name, started, error)
            return
        # Non-streaming: the first audio arrives with the last.
        elapsed = time.perf_counter() - started
        self.reporter.success(REQUEST_TYPE, name, started, elapsed, seconds, nbytes)

    def close(self) -> None:
        self.client.close()
