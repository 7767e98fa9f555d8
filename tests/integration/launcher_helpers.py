"""`python -m mandarin_tts.serving.launcher` as the tests run it: free ports, its own process
group, output captured, readiness polled on the frontend's /healthz, always torn down.
Shared by the fault-survival and listen-address tests (tests/integration)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psutil

from mandarin_tts.build.__main__ import build
from mandarin_tts.paths import ACOUSTIC_ONNX, PROJECT_ROOT, VOCODER_ONNX
from mandarin_tts.serving.ports import free_port

# The launcher's own status lines (probe outcomes, restarts), as opposed to the
# tritonserver option tables and model logs it echoes when the server exits.
SUPERVISOR_PREFIXES = (
    "a Python stub",
    "end-to-end probe",
    "probe ok",
    "restart",
    "tritonserver",
    "giving up",
    "frontend",
    "error",
    "shutting",
    "stopped",
)


class LauncherProcess:
    def __init__(self, extra_args: list[str], env: dict[str, str] | None = None) -> None:
        self.ports = {name: free_port() for name in ("http", "grpc", "metrics", "frontend")}
        self.url = f"http://127.0.0.1:{self.ports['frontend']}"
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the launcher
        command = [
            sys.executable, "-m", "mandarin_tts.serving.launcher", "--tier", "cpu-2",
            "--http-port", str(self.ports["http"]), "--grpc-port", str(self.ports["grpc"]),
            "--metrics-port", str(self.ports["metrics"]),
            "--frontend-port", str(self.ports["frontend"]), "--no-build", *extra_args,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            start_new_session=True,
        )

    def text(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def supervisor_lines(self) -> str:
        lines = [line for line in self.text().splitlines() if line.startswith(SUPERVISOR_PREFIXES)]
        return "\n".join(lines[-40:])

    def logs(self) -> str:
        serving = PROJECT_ROOT / ".cache" / "serving" / f"port-{self.ports['http']}"
        parts = []
        for name in ("tritonserver.log", "frontend.log"):
            path = serving / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-40:]
                parts.append(f"--- {path} ---\n" + "\n".join(tail))
        # Last, so that a truncated CI log still shows the supervisor's decisions.
        parts.append(f"--- launcher output (supervisor lines) ---\n{self.supervisor_lines()}")
        return "\n".join(parts)

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"launcher exited:\n{self.text()[-3000:]}"
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=30) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1.0)
        raise AssertionError(f"frontend not healthy within {timeout_s} s:\n{self.logs()}")

    def tree(self) -> list[psutil.Process]:
        """The launcher and every process below it."""
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def find(self, needle: str) -> list[psutil.Process]:
        found = []
        for process in self.tree()[1:]:
            try:
                if needle in " ".join(process.cmdline()):
                    found.append(process)
            except psutil.Error:
                continue
        return found

    def tritonserver(self) -> psutil.Process:
        servers = [p for p in self.find("tritonserver") if p.name() == "tritonserver"]
        assert len(servers) == 1, f"expected one tritonserver, found {servers}"
        return servers[0]

    def stop(self) -> None:
        leftovers = self.tree()[1:]  # children in sessions of their own (the frontend)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        for process in leftovers:
            try:
                process.kill()
            except psutil.Error:
                continue


L = TypeVar("L", bound=LauncherProcess)


@contextmanager
def running_launcher(request, start: Callable[[], L]) -> Iterator[L]:
    """For a fixture: `start()` a launcher and wait until it is healthy; always stopped,
    its logs printed when a test of the session failed."""
    if not (ACOUSTIC_ONNX.exists() and VOCODER_ONNX.exists()):
        build()  # a fresh checkout; otherwise never rewrite files other servers use
    launcher = start()
    try:
        launcher.wait_healthy(timeout_s=300)
        yield launcher
    finally:
        failed = request.session.testsfailed
        launcher.stop()
        if failed:
            print(launcher.logs())
        launcher.output.close()
