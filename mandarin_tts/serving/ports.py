"""Free localhost ports and HTTP readiness polls for the throw-away servers of tests, the
benchmark harness and the tuner (one place, so every caller binds the same way)."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable

LOCALHOST = "127.0.0.1"


def free_port(host: str = LOCALHOST) -> int:
    """A port the OS reports free right now (another process may still take it before use:
    TritonProcess.check_ports_free catches that case)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_http_ok(
    url: str,
    timeout_s: float,
    alive: Callable[[], bool] = lambda: True,
    interval_s: float = 0.5,
) -> None:
    """Poll `url` until it answers 200; fail early when `alive()` says the server exited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the process behind {url} exited")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(interval_s)
    raise RuntimeError(f"{url} not ready after {timeout_s:.0f} s")
