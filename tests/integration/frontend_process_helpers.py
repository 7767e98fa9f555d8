"""Start `python -m frontend` on a free port against a running Triton, for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from mandarin_tts.paths import EVAL_DIR
from mandarin_tts.serving.ports import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Short sentences for load and fault tests, and the plausible speaking rate of a complete
# WAV of one of them (seconds per Han character; the frontend adds no pause after one chunk).
SHORT_TEXTS = (
    "今天天气很好。",
    "我们一起去公园散步。",
    "晚上回家做饭。",
    "图书馆里很安静。",
    "请稍等一下。",
    "欢迎使用语音合成。",
    "明天见。",
    "这本书非常有意思。",
)
MIN_SECONDS_PER_CHAR = 0.12
MAX_SECONDS_PER_CHAR = 0.6


class FrontendProcess:
    def __init__(self, triton_grpc: str, *extra_args: str, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"frontend-{self.port}.log"
        self.command = [
            sys.executable, "-m", "frontend", "--host", "127.0.0.1", "--port", str(self.port),
            "--triton-grpc", triton_grpc, *extra_args,
        ]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait_ready: bool = True, timeout_s: float = 120.0) -> FrontendProcess:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"frontend exited ({self.proc.returncode}):\n{self.log_tail()}")
            status = self.get_status("/healthz")
            if status == 200 or (status is not None and not wait_ready):
                return self
            time.sleep(0.5)
        raise RuntimeError(f"frontend not ready after {timeout_s} s:\n{self.log_tail()}")

    def get_status(self, path: str) -> int | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return None

    def log_tail(self, lines: int = 40) -> str:
        text = (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def eval_text_path(name: str = "long_zh.txt") -> Path:
    """A shared eval text (tests skip when it is absent)."""
    return EVAL_DIR / name
