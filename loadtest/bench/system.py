"""What the runner needs of a system under test: start it, send it text, read its memory."""

from __future__ import annotations

import math
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Protocol

from mandarin_tts.paths import EVAL_SENTENCES


class SystemUnderTest(Protocol):
    name: str
    description: str

    def start(self) -> None: ...

    def synthesize(self, text: str) -> float:
        """Synthesize `text`; return the seconds of audio produced. Thread-safe."""
        ...

    def peak_memory_mb(self) -> float: ...

    def first_audio_s(self, text: str) -> float:
        """Time to the first audio bytes of a streamed `text`; NaN where it cannot stream."""
        ...

    def stop(self) -> None: ...


def no_streaming(_text: str) -> float:
    return math.nan


def eval_sentences() -> list[str]:
    return [s.strip() for s in EVAL_SENTENCES.read_text("utf-8").splitlines() if s.strip()]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http_ok(url: str, timeout_s: float, alive: Callable[[], bool] = lambda: True) -> None:
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
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout_s:.0f} s")
