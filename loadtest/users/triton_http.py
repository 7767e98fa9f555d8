"""Locust client wrapper for Triton's HTTP/REST endpoint.

tritonclient.http runs on geventhttpclient, so it cooperates with locust's gevent loop as is.
"""

from __future__ import annotations

from typing import Any

import tritonclient.http as httpclient

from loadtest.users.triton_ensemble import TritonEnsembleClient

REQUEST_TYPE = "HTTP"
TARGET = "triton-http"


class TritonHttpClient(TritonEnsembleClient):
    client_module = httpclient
    request_type = REQUEST_TYPE
    target = TARGET

    def connect(self, url: str) -> Any:
        return httpclient.InferenceServerClient(
            url.removeprefix("http://"),
            concurrency=1,
            connection_timeout=self.timeout_s,
            network_timeout=self.timeout_s,
        )

    def infer(self, inputs: list[Any]) -> Any:
        return self.client.infer(self.model, inputs)
