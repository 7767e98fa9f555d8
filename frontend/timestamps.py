"""Per-character times on the final audio timeline, from the acoustic model's durations.

A chunk's characters are timed inside its own audio by its symbols' durations (frames of
`frame_s` seconds each; the symbols of one character are contiguous). The assembler then
shifts the chunk: a lead silence is added, the chunk's own edge silence is trimmed and the
pause follows (`assembly.PieceLayout`), so a time t inside the chunk lands at
`piece start + lead + t - trim start`, clamped to the kept body. Times are seconds, so a
resampled delivery (any `sample_rate`) has the same times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from frontend.assembly import PieceLayout
from frontend.chunking import Chunk, Pause
from frontend.errors import InvalidParameter
from mandarin_tts import contract
from mandarin_tts.serving.step_io import has_alignment
from mandarin_tts.text.inline import visible_text
from mandarin_tts.voices.manifest import VoiceManifest

NO_CHAR = -1

# The bundled voice's audio follows its predicted durations 2-7 frames late (first sound
# after a character's predicted start, over 6 test sentences: median 4 frames); the
# vocoder's output is shifted by this much to agree with the audio. Sentence-final vowels
# also decay into the model's final `sil` (up to ~0.25 s below -50 dBFS), which no
# character owns.
MODEL_LAG_S = 4 * 0.0125


@dataclass(frozen=True)
class ChunkAlignment:
    """What the ensemble returns for timestamps, per chunk."""

    chars: tuple[str, ...]
    pinyin: tuple[str, ...]
    symbol_chars: np.ndarray  # int [T]: index into chars, or NO_CHAR
    durations: np.ndarray  # int [T]: frames per symbol

    def usable(self) -> bool:
        return (
            len(self.chars) == len(self.pinyin)
            and self.symbol_chars.shape == self.durations.shape
            and self.durations.size > 0
        )


@dataclass(frozen=True)
class AlignedAudio:
    audio: np.ndarray  # float32, the voice's sample rate
    alignment: ChunkAlignment


@dataclass(frozen=True)
class Segment:
    text: str
    pinyin: str
    start: float
    end: float

    def public(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "pinyin": self.pinyin,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
        }


@dataclass(frozen=True)
class Sentence:
    """A subtitle cue: the text as written, from its first character's start to its last's
    end."""

    text: str
    start: float
    end: float

    def public(self) -> dict[str, Any]:
        return {"text": self.text, "start": round(self.start, 3), "end": round(self.end, 3)}


def char_times(alignment: ChunkAlignment, frame_s: float, lag_s: float = 0.0) -> list[Segment]:
    """Each character's (start, end) inside its chunk's audio, in seconds (`lag_s` later
    than its frames say)."""
    ends = np.cumsum(np.asarray(alignment.durations, np.int64))
    starts = ends - np.asarray(alignment.durations, np.int64)
    owners = np.asarray(alignment.symbol_chars, np.int64)
    segments: list[Segment] = []
    for i, (text, pinyin) in enumerate(zip(alignment.chars, alignment.pinyin, strict=True)):
        mine = np.flatnonzero(owners == i)
        if mine.size == 0:
            continue
        start, end = int(starts[mine[0]]), int(ends[mine[-1]])
        segments.append(Segment(text, pinyin, start * frame_s + lag_s, end * frame_s + lag_s))
    return segments


def place(segments: list[Segment], layout: PieceLayout, offset_s: float) -> list[Segment]:
    """Chunk-relative segments on the final timeline: the piece starts at `offset_s`."""
    sr = layout.sample_rate
    body_start = offset_s + layout.lead / sr
    body_end = body_start + layout.body / sr
    shift = body_start - layout.trim_start / sr

    def clamp(t: float) -> float:
        return min(max(t + shift, body_start), body_end)

    return [Segment(s.text, s.pinyin, clamp(s.start), clamp(s.end)) for s in segments]


# A subtitle cue ends at a sentence or paragraph boundary, or an SSML break.
CUE_ENDS = frozenset({Pause.SENTENCE, Pause.PARAGRAPH})


@dataclass
class Timeline:
    """Collects every chunk's placed segments, in order, as the assembler lays them out."""

    frame_s: float
    lag_s: float = 0.0
    offset_s: float = 0.0
    segments: list[Segment] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    _open: list[tuple[str, list[Segment]]] = field(default_factory=list)

    def add(self, chunk: Chunk, alignment: ChunkAlignment, layout: PieceLayout) -> None:
        times = char_times(alignment, self.frame_s, self.lag_s)
        placed = place(times, layout, self.offset_s)
        self.segments.extend(placed)
        self._open.append((visible_text(chunk.text).strip(), placed))
        self.offset_s += layout.total / layout.sample_rate
        if chunk.pause_ms is not None or chunk.pause_after in CUE_ENDS:
            self.close_sentence()

    def close_sentence(self) -> None:
        timed = [s for _, segs in self._open for s in segs]
        if timed:
            text = "".join(t for t, _ in self._open)
            self.sentences.append(Sentence(text, timed[0].start, timed[-1].end))
        self._open = []


def timeline_for(manifest: VoiceManifest) -> Timeline:
    """An empty timeline for a voice whose acoustic model reports durations, else a 400."""
    if not has_alignment(manifest.family):
        raise InvalidParameter(
            f"timestamps are not available for voice {manifest.name!r} (its acoustic model "
            "does not report durations); leave out 'timestamps' and 'subtitles', or choose "
            "a voice of the fastspeech2 family (GET /v1/voices lists each voice's family)",
            param="timestamps",
        )
    return Timeline(contract.AC_FRAME_SECONDS, MODEL_LAG_S)


def timestamps_body(
    audio_b64: str,
    audio_format: str,
    sample_rate: int,
    duration_s: float,
    timeline: Timeline,
    subtitles: str | None = None,
) -> dict[str, Any]:
    """The JSON answer of a `"timestamps": true` request."""
    from frontend.subtitles import render_subtitles

    timeline.close_sentence()
    body: dict[str, Any] = {
        "audio": audio_b64,
        "format": audio_format,
        "sample_rate": sample_rate,
        "duration": round(duration_s, 3),
        "segments": [s.public() for s in timeline.segments],
        "sentences": [s.public() for s in timeline.sentences],
    }
    if subtitles is not None:
        body["subtitles"] = render_subtitles(timeline.sentences, subtitles)
        body["subtitles_format"] = subtitles
    return body
