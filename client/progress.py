"""A dependency-free text progress bar on stderr."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class ProgressBar:
    total: float
    label: str = ""
    unit: str = ""
    width: int = 30
    enabled: bool = True
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    done: float = 0.0
    _start: float = field(default_factory=time.monotonic)

    def update(self, done: float) -> None:
        self.done = done
        if not self.enabled:
            return
        fraction = min(done / self.total, 1.0) if self.total > 0 else 1.0
        filled = round(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.monotonic() - self._start
        self.stream.write(
            f"\r{self.label} [{bar}] {fraction:6.1%} {done:.1f}/{self.total:.1f}{self.unit} {elapsed:.1f}s"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.update(self.total)
            self.stream.write("\n")
            self.stream.flush()
