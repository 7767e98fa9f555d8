"""Join chunk audio in order: trim each chunk's own edge silence, insert pauses that follow the
punctuation, and fade the edges so joins have no clicks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from frontend.chunking import Pause

# Silence after each boundary type, in ms at speed 1.0 (divided by the speed).
PAUSES_MS: Mapping[Pause, float] = MappingProxyType(
    {
        Pause.NONE: 0.0,
        Pause.SHORT: 120.0,
        Pause.CLAUSE: 220.0,
        Pause.SENTENCE: 450.0,
        Pause.PARAGRAPH: 700.0,
    }
)


@dataclass(frozen=True)
class PausePlan:
    """The pauses between chunks and how each chunk's edges are prepared."""

    pauses_ms: Mapping[Pause, float] = field(default_factory=lambda: PAUSES_MS)
    fade_ms: float = 8.0
    # Edge silence (below `trim_threshold`) beyond `keep_ms` is trimmed. The model's own
    # lead-in and tail (50-270 ms) are kept: trimming them to 30 ms cost 0.10 DNSMOS OVRL
    # (0.18 BAK) on 12 dev sentences (docs/quality.md), and a pause counts them.
    trim_threshold: float = 0.01
    keep_ms: float = 250.0

    def pause_samples(self, pause: Pause, sample_rate: int, speed: float = 1.0) -> int:
        return round(self.pauses_ms[pause] / 1000.0 / speed * sample_rate)


def trim_bounds(audio: np.ndarray, threshold: float, keep: int) -> tuple[int, int]:
    """(start, stop) of `audio` without its leading/trailing samples quieter than
    `threshold`, `keep` of them kept; (0, 0) when nothing is that loud."""
    loud = np.flatnonzero(np.abs(audio) >= threshold)
    if loud.size == 0:
        return 0, 0
    return max(int(loud[0]) - keep, 0), min(int(loud[-1]) + 1 + keep, audio.size)


def trim_edges(audio: np.ndarray, threshold: float, keep: int) -> np.ndarray:
    """Drop leading/trailing samples quieter than `threshold`, keeping `keep` of them."""
    start, stop = trim_bounds(audio, threshold, keep)
    return audio[start:stop]


def quiet_tail(audio: np.ndarray, threshold: float) -> int:
    """Samples after the last one at or above `threshold` (all of them if none is)."""
    loud = np.flatnonzero(np.abs(audio) >= threshold)
    return int(audio.size - 1 - loud[-1]) if loud.size else int(audio.size)


def apply_fades(audio: np.ndarray, fade: int) -> np.ndarray:
    """Raised-cosine fade in and out over `fade` samples each; edge samples become 0."""
    out = np.array(audio, dtype=np.float32, copy=True)
    n = min(fade, out.size // 2)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float64))).astype(np.float32)
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    return out


@dataclass(frozen=True)
class PieceLayout:
    """Where a chunk's samples went in its piece: `lead` zeros, then the chunk's audio from
    sample `trim_start` on (`body` samples), then `gap` zeros. Timestamps use it."""

    sample_rate: int
    lead: int
    trim_start: int
    body: int
    gap: int

    @property
    def total(self) -> int:
        return self.lead + self.body + self.gap


@dataclass
class Assembler:
    """Turns (chunk audio, pause after it) pairs into output float audio, piece by piece,
    so that streaming and whole-file responses produce the same samples."""

    sample_rate: int
    speed: float = 1.0
    plan: PausePlan = PausePlan()

    def piece(
        self,
        audio: np.ndarray,
        pause_after: Pause,
        is_last: bool,
        pause_ms: float | None = None,
        lead_ms: float = 0.0,
    ) -> np.ndarray:
        """The chunk's prepared audio followed by its pause (none after the last chunk);
        an explicit `pause_ms` (an SSML break) replaces it, also after the last chunk.

        The pause is the silence after the chunk's last sound: its own tail counts, and only
        the rest is added as zeros (the next chunk's lead-in follows)."""
        return self.laid_out(audio, pause_after, is_last, pause_ms, lead_ms)[0]

    def laid_out(
        self,
        audio: np.ndarray,
        pause_after: Pause,
        is_last: bool,
        pause_ms: float | None = None,
        lead_ms: float = 0.0,
    ) -> tuple[np.ndarray, PieceLayout]:
        """`piece`, and where the chunk's samples went in it."""
        keep = round(self.plan.keep_ms / 1000.0 * self.sample_rate)
        fade = round(self.plan.fade_ms / 1000.0 * self.sample_rate)
        samples = np.asarray(audio, np.float32)
        start, stop = trim_bounds(samples, self.plan.trim_threshold, keep)
        trimmed = samples[start:stop]
        body = apply_fades(trimmed, fade)
        pause = 0 if is_last else self.plan.pause_samples(pause_after, self.sample_rate, self.speed)
        if pause_ms is not None:
            pause = round(pause_ms / 1000.0 * self.sample_rate)
        gap = max(0, pause - quiet_tail(trimmed, self.plan.trim_threshold)) if pause else 0
        lead = round(lead_ms / 1000.0 * self.sample_rate)  # an SSML break before any text
        layout = PieceLayout(self.sample_rate, lead, start, int(body.size), gap)
        if gap == 0 and lead == 0:
            return body, layout
        zeros = np.zeros
        return np.concatenate([zeros(lead, np.float32), body, zeros(gap, np.float32)]), layout


def apply_volume(audio: np.ndarray, volume: float) -> np.ndarray:
    """Gain on the float audio, clipped to [-1, 1]."""
    return np.clip(np.asarray(audio, np.float32) * np.float32(volume), -1.0, 1.0)


def to_pcm16(audio: np.ndarray) -> bytes:
    """Float [-1, 1] -> 16-bit little-endian PCM."""
    scaled = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    return scaled.tobytes()
