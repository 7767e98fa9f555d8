"""Shared unit-test stand-ins for mandarin_tts.serving (tests/unit is on sys.path through its
conftest, so every unit test folder can import this)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from mandarin_tts.serving.server import ServerError, ServerOptions


class UnstartableServer:
    """Stands in for TritonProcess: records the options it was given and fails to start, so a
    launcher test stops right after the launcher has decided how to run the server."""

    options: ClassVar[list[ServerOptions]] = []

    def __init__(self, opts: ServerOptions, log_path: Path, work_dir: Path | None = None) -> None:
        UnstartableServer.options.append(opts)
        self.opts = opts
        self.log_path = log_path

    def start(self) -> None:
        raise ServerError("not started in a unit test")

    def stop(self) -> None:
        pass

    def log_tail(self, lines: int = 60) -> str:
        return ""
