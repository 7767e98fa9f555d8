"""`make serve`'s launcher: renders, starts, probes end to end, replaces a Triton whose
Python stub crashed (2.51 keeps reporting ready), and stops cleanly on Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mandarin_tts.paths import PROJECT_ROOT
from mandarin_tts.serving.ports import free_port

pytestmark = pytest.mark.integration


def wait_for_line(proc: subprocess.Popen, lines: list[str], needle: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            lines.append(line)
            if needle in line:
                return
        elif proc.poll() is not None:
            break
    raise AssertionError(f"no {needle!r} within {timeout} s:\n{''.join(lines)}")


def stub_pids(http_port: int, model: str) -> list[int]:
    """Python-backend stub processes of the launcher's Triton (its work dir is per port)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        text = b" ".join(args).decode(errors="replace")
        if f"port-{http_port}/tritonserver" in text and f"{model}_0_0" in text:
            pids.append(int(cmdline.parent.name))
    return pids


def test_launcher_serves_recovers_from_a_crashed_stub_and_stops_on_ctrl_c(triton_server):
    # Beside the session server, on its own ports, from the same committed repository
    # (re-rendered: identical files, so nothing is rewritten under the running server).
    http, grpc, metrics = free_port(), free_port(), free_port()
    cmd = [
        sys.executable,
        "-m",
        "mandarin_tts.serving.launcher",
        "--tier",
        "cpu-2",
        "--no-frontend",
        "--probe-interval",
        "2",
        "--http-port",
        str(http),
        "--grpc-port",
        str(grpc),
        "--metrics-port",
        str(metrics),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        wait_for_line(proc, lines, "Ctrl-C to stop", timeout=300)
        output = "".join(lines)
        assert "probe ok" in output and f"http://127.0.0.1:{http}" in output
        stubs = stub_pids(http, "vocoder")
        assert stubs, "no vocoder stub found"
        for pid in stubs:
            os.kill(pid, signal.SIGKILL)
        wait_for_line(proc, lines, "tritonserver restarted, probe ok", timeout=300)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        lines.extend(proc.stdout.readlines())
        assert "stopped" in "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        print("".join(lines)[-3000:])
