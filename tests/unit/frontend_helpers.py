"""A fake chunk synthesizer for unit tests (the end-to-end tests use the real Triton)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from frontend.errors import TextRejected, TritonUnavailable
from frontend.synthesis import VoiceParams
from frontend.voices import BUILTIN_VOICE
from mandarin_tts.voices.manifest import (
    FAMILY_SAMBERT,
    FRONTEND_BAKER,
    REQUIRED_FILES,
    VoiceManifest,
    write_manifest,
)

SAMPLE_RATE = 16_000


def tone(num_samples: int, amplitude: float = 0.8, freq: float = 220.0) -> np.ndarray:
    """A loud sine that starts and ends far from zero, so unfaded joins would click."""
    t = np.arange(num_samples) / SAMPLE_RATE
    return (amplitude * np.cos(2 * np.pi * freq * t)).astype(np.float32)


class FakeSynthesizer:
    """100 samples per character; reversed completion order (later chunks finish first) to
    check ordering; records peak concurrency.  'BAD' in a chunk -> TextRejected; 'DOWN' ->
    TritonUnavailable."""

    sample_rate = SAMPLE_RATE

    def __init__(self, delay_s: float = 0.01, samples_per_char: int = 100) -> None:
        self.delay_s = delay_s
        self.samples_per_char = samples_per_char
        self.calls: list[tuple[str, VoiceParams]] = []
        self.running = 0
        self.peak = 0
        self.available = True

    def length_of(self, text: str) -> int:
        return self.samples_per_char * len(text)

    async def synthesize(self, text: str, params: VoiceParams) -> np.ndarray:
        self.calls.append((text, params))
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            # Earlier chunks take longer, so results arrive out of order.
            await asyncio.sleep(self.delay_s * (1 + 1.0 / len(self.calls)))
            if not self.available or "DOWN" in text:
                raise TritonUnavailable("fake backend is down", retry_after_s=5)
            if "BAD" in text:
                raise TextRejected(f"the text model rejected a chunk: {text!r}")
            return tone(self.length_of(text))
        finally:
            self.running -= 1


class FlakySynthesizer(FakeSynthesizer):
    """A FakeSynthesizer whose first `failures` calls for chunks containing `target` raise
    `error()` (every chunk when `target` is empty), then succeed."""

    def __init__(
        self,
        failures: int,
        error: Callable[[], BaseException] = lambda: TritonUnavailable(
            "Stub process is not healthy", retry_after_s=5
        ),
        target: str = "",
    ) -> None:
        super().__init__(delay_s=0.001)
        self.failures = failures
        self.error = error
        self.target = target
        self.failed = 0

    async def synthesize(self, text: str, params: VoiceParams) -> np.ndarray:
        if self.target in text and self.failed < self.failures:
            self.calls.append((text, params))
            self.failed += 1
            await asyncio.sleep(0)
            raise self.error()
        return await super().synthesize(text, params)


def install_voices(models_dir: Path, voices_dir: Path, *, bundled: bool = True) -> None:
    """Manifests of the bundled voice (16 kHz, all controls) and of an imported 24 kHz
    two-speaker voice with emotions and only a speed control; no ONNX files (the frontend
    reads manifests only)."""
    if bundled:
        write_manifest(replace(BUILTIN_VOICE, directory=models_dir), models_dir)
    aishu = VoiceManifest(
        name="aishu",
        family=FAMILY_SAMBERT,
        text_frontend=FRONTEND_BAKER,  # a frontend this test process can load
        sample_rate=24_000,
        files={role: f"{role}.onnx" for role in REQUIRED_FILES[FAMILY_SAMBERT]},
        speakers=("F7", "M1"),
        emotions=("neutral", "happy", "sad"),
        default_speaker="F7",
        default_emotion="neutral",
        controls=("speed",),
        licence="Apache-2.0 (test)",
        source="a test",
        description="An imported test voice.",
        directory=voices_dir / "aishu",
    )
    write_manifest(aishu, voices_dir / "aishu")


def catalogue_with_voices(root: Path, *, bundled: bool = True, default: str = "") -> Any:
    from frontend.voices import VoiceCatalogue

    install_voices(root / "models", root / "voices", bundled=bundled)
    return VoiceCatalogue.load(root / "models", root / "voices", default)
