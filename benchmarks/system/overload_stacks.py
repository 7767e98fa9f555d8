"""The two deployments the overload scenario compares, each started as its own process tree:
ours (`make serve`'s launcher: tritonserver + stubs + the HTTP frontend) and the seeds'
Flask app under gunicorn. Each one knows how to send one request and read its answer."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

from benchmarks.system.overload_stats import REFUSAL_STATUSES, Outcome
from mandarin_tts.contract import OUTPUT_SAMPLE_RATE
from mandarin_tts.paths import PROJECT_ROOT
from mandarin_tts.serving.ports import free_port, wait_http_ok
from mandarin_tts.serving.tune.memory import peak_rss_mb

FLOAT32_BYTES = 4
GUNICORN_PIN = "gunicorn==27.0.1"


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def reset_peaks(pid: int) -> bool:
    """Reset VmHWM of every process in the tree (`5` into /proc/PID/clear_refs, Linux >= 4.0),
    so that the next reading is this level's peak; False where the kernel refused."""
    done = True
    for process in tree(pid):
        try:
            Path(f"/proc/{process.pid}/clear_refs").write_text("5")
        except OSError:
            done = False
    return done


def tree_peak_mb(pid: int) -> float:
    """Sum of each process's VmHWM (MiB) over the tree: an upper bound on the true peak."""
    return sum(peak_rss_mb(process.pid) for process in tree(pid))


SPEED_SLOTS = 20_000


def speed_for(index: int) -> float:
    """A speed unique over 20000 consecutive requests (1e-6 apart: distinct in float32),
    within 1 % of 1.0, so that the response cache cannot answer and the audio lasts what
    the Flask app's (speed 1) does."""
    return round(1.0 + ((index % SPEED_SLOTS) - SPEED_SLOTS // 2) * 1e-6, 6)


def unique_text(text: str, number: int) -> str:
    """`text` read as request `number`'s own: the steps' response caches (acoustic, vocoder)
    cannot answer a repeat. A speed within 1 % is not enough: it often leaves every
    duration, and so the mel, unchanged. The Flask app gets the same texts."""
    return f"第{number}位{text}"


@dataclass
class Stack(ABC):
    name: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    port: int = field(default=0, init=False)
    # Every request this stack is sent gets the next number (its speed: never a cache hit).
    sent: Iterator[int] = field(default_factory=itertools.count, init=False)

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def _spawn(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env
        )

    @abstractmethod
    def start(self) -> None:
        """Each deployment's own."""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        members = tree(self.proc.pid)  # before: a child left behind is re-parented away
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        _gone, alive = psutil.wait_procs(members[1:], timeout=15)
        for process in alive:  # e.g. a tritonserver still starting when the launcher ended
            with contextlib.suppress(psutil.Error):
                process.kill()

    async def request(
        self, session: aiohttp.ClientSession, text: str, timeout_s: float, t0: float
    ) -> Outcome:
        number = next(self.sent)
        payload = self.body(unique_text(text, number), number)
        sent = time.monotonic()
        try:
            async with session.post(
                self.url(),
                json=payload,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as response:
                body = await response.read()
                latency = time.monotonic() - sent
                if response.status == 200:
                    return Outcome(sent - t0, latency, 200, self.audio_seconds(response, body))
                error = "" if response.status in REFUSAL_STATUSES else body[:160].decode("replace")
                return Outcome(sent - t0, latency, response.status, error=error)
        except (aiohttp.ClientError, TimeoutError) as failure:
            kind = "client timeout" if isinstance(failure, TimeoutError) else repr(failure)[:160]
            return Outcome(sent - t0, time.monotonic() - sent, None, error=kind)

    @abstractmethod
    def url(self) -> str:
        """Each deployment's own."""

    @abstractmethod
    def body(self, text: str, index: int) -> dict[str, object]:
        """Each deployment's own."""

    @abstractmethod
    def audio_seconds(self, response: aiohttp.ClientResponse, body: bytes) -> float:
        """Each deployment's own."""

    def settings(self) -> dict[str, object]:
        return {}


class OurStack(Stack):
    """`make serve` on free ports: the launcher starts tritonserver (and its stubs), probes
    it, then starts `python -m frontend`; requests go to POST /v1/tts."""

    def start(self) -> None:
        self.port = free_port()
        ports = {
            "--http-port": free_port(),
            "--grpc-port": free_port(),
            "--metrics-port": free_port(),
            "--frontend-port": self.port,
        }
        command = [sys.executable, "-m", "mandarin_tts.serving.launcher", "--no-build"]
        for flag, value in ports.items():
            command += [flag, str(value)]
        self._spawn(command)
        wait_http_ok(f"http://127.0.0.1:{self.port}/healthz", 600, self.alive, 1.0)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/tts"

    def body(self, text: str, index: int) -> dict[str, object]:
        return {"text": text, "speed": speed_for(index)}

    def audio_seconds(self, response: aiohttp.ClientResponse, body: bytes) -> float:
        return float(response.headers.get("X-Audio-Duration", "0"))

    def settings(self) -> dict[str, object]:
        return {"command": "python -m mandarin_tts.serving.launcher --no-build (make serve)"}


def gunicorn_available() -> bool:
    return importlib.util.find_spec("gunicorn") is not None


@dataclass
class GunicornFlask(Stack):
    """The seeds' deployment: the Flask app (`flask_app.py`, the same ONNX files) under
    gunicorn with sync workers, each worker loading its own pipeline and serving one
    request at a time."""

    workers: int = 5
    threads: int = 1
    ort_threads: int = 1
    timeout_s: int = 120

    def command(self) -> list[str]:
        app = f"benchmarks.system.flask_app:create_app({self.threads}, {self.ort_threads})"
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--timeout",
            str(self.timeout_s),
            app,
        ]

    def start(self) -> None:
        if not gunicorn_available():
            raise RuntimeError(f"gunicorn is not installed: pip install {GUNICORN_PIN}")
        self.port = free_port()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
        )
        self._spawn(self.command(), env)
        wait_http_ok(f"http://127.0.0.1:{self.port}/health", 600, self.alive, 1.0)
        # /health answers once one worker is up; wait for all of them to have booted.
        deadline = time.monotonic() + 600
        while len(tree(self.pid)) < self.workers + 1 and time.monotonic() < deadline:
            time.sleep(1.0)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/synthesize"

    def body(self, text: str, index: int) -> dict[str, object]:
        return {"text": text}

    def audio_seconds(self, response: aiohttp.ClientResponse, body: bytes) -> float:
        return len(body) / FLOAT32_BYTES / OUTPUT_SAMPLE_RATE

    def settings(self) -> dict[str, object]:
        return {
            "command": " ".join(self.command()[1:]).replace(f":{self.port}", ":PORT"),
            "workers": self.workers,
            "threads": self.threads,
            "onnxruntime_threads": self.ort_threads,
            "timeout_s": self.timeout_s,
        }


def describe(stack: Stack) -> str:
    return json.dumps(stack.settings())
