"""System 4: the single-process Flask + thread pool deployment (`flask_app`), in its own
process, called over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

from benchmarks.system.under_test import no_streaming
from mandarin_tts.contract import OUTPUT_SAMPLE_RATE
from mandarin_tts.serving.ports import free_port, wait_http_ok
from mandarin_tts.serving.tune.memory import tree_peak_rss_mb

FLOAT32_BYTES = 4


class FlaskBaseline:
    name = "flask"
    description = "Flask + thread pool"

    def __init__(self, workers: int = 2, threads: int = 1) -> None:
        self.workers, self.threads = workers, threads

    def start(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.system.flask_app", "--port", str(self.port)]
            + ["--workers", str(self.workers), "--threads", str(self.threads)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http_ok(f"http://127.0.0.1:{self.port}/health", 120, lambda: self.proc.poll() is None)

    def synthesize(self, text: str) -> float:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/synthesize",
            json.dumps({"text": text}).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            return len(response.read()) / FLOAT32_BYTES / OUTPUT_SAMPLE_RATE

    def peak_memory_mb(self) -> float:
        return tree_peak_rss_mb(self.proc.pid)

    first_audio_s = staticmethod(no_streaming)

    def stop(self) -> None:
        if hasattr(self, "proc") and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
