"""Sentence cues as SubRip (.srt) or WebVTT (.vtt) text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Cue(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


def clock(seconds: float, separator: str) -> str:
    """12.3456 -> '00:00:12,346' (SRT, separator ',') or '00:00:12.346' (VTT, '.')."""
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def _lines(text: str) -> str:
    # A blank line ends a cue in both formats; "-->" would read as a timing line.
    return " ".join(text.split()).replace("-->", "->")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{i}\n{clock(c.start, ',')} --> {clock(c.end, ',')}\n{_lines(c.text)}\n"
        for i, c in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{clock(c.start, '.')} --> {clock(c.end, '.')}\n{_vtt_escape(_lines(c.text))}\n"
        for c in cues
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def render_subtitles(cues: Sequence[Cue], fmt: str) -> str:
    if fmt == "srt":
        return to_srt(cues)
    if fmt == "vtt":
        return to_vtt(cues)
    raise ValueError(f"unknown subtitle format {fmt!r}")
