"""Locust client wrapper for Triton's gRPC endpoint (one blocking `infer` per request).

gRPC's C core blocks the whole gevent hub unless `grpc.experimental.gevent.init_gevent()`
ran before the first channel was created: `enable_gevent()` does that once per process
(the locustfile calls it at import). Without it, 4 users issue their calls one at a time.
"""

from __future__ import annotations

from typing import Any

import tritonclient.grpc as grpcclient

from loadtest.users.triton_ensemble import TritonEnsembleClient

REQUEST_TYPE = "gRPC"
TARGET = "triton-grpc"
_gevent_enabled = False


def enable_gevent() -> None:
    global _gevent_enabled
    if not _gevent_enabled:
        from grpc.experimental import gevent as grpc_gevent

        grpc_gevent.init_gevent()
        _gevent_enabled = True


class TritonGrpcClient(TritonEnsembleClient):
    client_module = grpcclient
    request_type = REQUEST_TYPE
    target = TARGET

    def connect(self, url: str) -> Any:
        if not _gevent_enabled:
            raise RuntimeError("call triton_grpc.enable_gevent() before creating gRPC clients")
        return grpcclient.InferenceServerClient(url.removeprefix("grpc://"))

    def infer(self, inputs: list[Any]) -> Any:
        return self.client.infer(self.model, inputs, client_timeout=self.timeout_s)
