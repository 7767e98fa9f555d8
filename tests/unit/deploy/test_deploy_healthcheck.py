"""docker/healthcheck.py against a throwaway HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from deploy_helpers import load_docker_script

healthcheck = load_docker_script("healthcheck")


@dataclass
class StubState:
    ready_status: int = 200


@pytest.fixture()
def stub() -> Iterator[tuple[StubState, int]]:
    state = StubState()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            status = state.ready_status if self.path == "/v2/health/ready" else 404
            if self.path == "/healthz":
                status = 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_url_check_passes_on_2xx_and_fails_otherwise(stub: tuple[StubState, int]) -> None:
    _, port = stub
    assert healthcheck.main(["url", f"http://127.0.0.1:{port}/healthz"]) == 0
    assert healthcheck.main(["url", f"http://127.0.0.1:{port}/missing"]) == 1


def test_triton_readiness(stub: tuple[StubState, int]) -> None:
    state, port = stub
    assert healthcheck.main(["triton", "--port", str(port)]) == 0
    state.ready_status = 503
    assert healthcheck.main(["triton", "--port", str(port)]) == 1


def test_nothing_listening_is_unhealthy() -> None:
    from mandarin_tts.serving.ports import free_port

    assert healthcheck.main(["triton", "--port", str(free_port()), "--timeout", "1"]) == 1


def test_ready_but_failing_inference_is_unhealthy(stub: tuple[StubState, int]) -> None:
    """The crashed-stub case: /v2/health/ready is 200 but synthesis fails."""
    _, port = stub
    calls: list[str] = []

    def dead_stub(url: str, timeout_s: float) -> None:
        calls.append(url)
        raise RuntimeError("Stub process is not healthy")

    check = healthcheck.TritonCheck(port=port, inference=True, synthesize=dead_stub)
    with pytest.raises(healthcheck.Unhealthy, match="Stub process"):
        check.run()
    assert calls == [f"127.0.0.1:{port}"]
    healthcheck.TritonCheck(port=port, inference=True, synthesize=lambda u, t: None).run()
    # Without --inference the synthesis is not attempted.
    healthcheck.TritonCheck(port=port, inference=False, synthesize=dead_stub).run()
    assert len(calls) == 1


def test_the_default_inference_probe_is_the_launchers_probe() -> None:
    probe = pytest.importorskip("mandarin_tts.serving.probe")
    assert callable(probe.synthesize_http) and callable(probe.check_speech)
    assert healthcheck.TritonCheck().synthesize is healthcheck.synthesize_probe
