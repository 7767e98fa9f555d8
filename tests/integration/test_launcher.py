"""`make serve`'s launcher: renders, starts, probes end to end, shuts down cleanly."""

import os
import subprocess
import sys

import pytest
from conftest import free_port

from mandarin_tts.paths import PROJECT_ROOT

pytestmark = pytest.mark.integration


def test_launcher_check_starts_probes_and_stops(triton_server):
    # Runs beside the session server (its own ports) from the same committed repository,
    # which the launcher re-renders: identical files, so nothing is rewritten.
    ports = [str(free_port()) for _ in range(3)]
    cmd = [
        sys.executable,
        "-m",
        "mandarin_tts.serving.launcher",
        "--tier",
        "cpu-2",
        "--no-frontend",
        "--check",
        "--http-port",
        ports[0],
        "--grpc-port",
        ports[1],
        "--metrics-port",
        ports[2],
    ]
    env = dict(os.environ)
    done = subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=400
    )
    print(done.stdout[-2000:], done.stderr[-3000:])
    assert done.returncode == 0
    assert "probe ok" in done.stdout
    assert f"http://127.0.0.1:{ports[0]}" in done.stdout
    assert "stopped" in done.stdout
