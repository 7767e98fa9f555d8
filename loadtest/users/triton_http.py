"""Locust client wrapper for Triton's HTTP/REST endpoint.

tritonclient.http runs on geventhttpclient, so it cooperates with locust's gevent loop as is.
"""

from __future__ import annotations

import time

import tritonclient.http as httpclient

from loadtest.users.reporting import Reporter
from loadtest.users.textmix import Text
from loadtest.users.triton_inputs import audio_seconds, build_inputs
from mandarin_tts import contract as c

REQUEST_TYPE = "HTTP"
TARGET = "triton-http"


class TritonHttpClient:
    def __init__(
        self, url: str, reporter: Reporter, model: str = c.MODEL_ENSEMBLE, timeout_s: float = 300.0
    ) -> None:
        self.client = httpclient.InferenceServerClient(
            url.removeprefix("http://"),
            concurrency=1,
            connection_timeout=timeout_s,
            network_timeout=timeout_s,
        )
        self.reporter = reporter
        self.model = model

    def synthesize(self, text: Text, speed: float | None = None) -> None:
        name = f"{TARGET} {text.kind}"
        inputs = build_inputs(httpclient, text.text, speed)
        started = time.perf_counter()
        try:
            result = self.client.infer(self.model, inputs)
            seconds, nbytes = audio_seconds(result)
        except Exception as error:  # every failure is a failed request, not a crashed user
            self.reporter.failure(REQUEST_TYPE, name, started, error)
            return
        elapsed = time.perf_counter() - started
        self.reporter.success(REQUEST_TYPE, name, started, elapsed, seconds, nbytes)

    def close(self) -> None:
        self.client.close()
