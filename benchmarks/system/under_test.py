"""What the runner needs of a system under test: start it, send it text, read its memory."""

from __future__ import annotations

import math
from typing import Protocol


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
