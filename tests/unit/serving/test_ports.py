"""free_port and wait_http_ok against a real local HTTP server."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from mandarin_tts.serving.ports import free_port, wait_http_ok


@pytest.fixture()
def http_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_free_port_can_be_bound() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # raises if it were taken


def test_wait_http_ok_returns_once_the_server_answers(http_url: str) -> None:
    wait_http_ok(http_url, timeout_s=10)


def test_wait_http_ok_fails_fast_when_the_process_died() -> None:
    with pytest.raises(RuntimeError, match="exited"):
        wait_http_ok(f"http://127.0.0.1:{free_port()}/", timeout_s=60, alive=lambda: False)


def test_wait_http_ok_times_out_when_nothing_listens() -> None:
    with pytest.raises(RuntimeError, match="not ready"):
        wait_http_ok(f"http://127.0.0.1:{free_port()}/", timeout_s=0.3, interval_s=0.1)
