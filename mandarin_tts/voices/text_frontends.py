"""The text frontend a voice's manifest selects: request text -> the acoustic model's input.

Every kind returns the same shape of result, so the Triton text step, the in-process
pipeline and the HTTP frontend's chunker treat all voices alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.voices.manifest import (
    FRONTEND_BAKER,
    FRONTEND_KANTTS,
    VoiceManifest,
    VoiceManifestError,
)

if TYPE_CHECKING:
    from mandarin_tts.text.alignment import SymbolAlignment


class VoiceInputError(ValueError):
    """The request cannot be synthesized by this voice; the message says what to change."""


@dataclass(frozen=True)
class EncodedText:
    # Per-item arrays (no batch axis) named as the voice's acoustic step takes them.
    tensors: dict[str, np.ndarray]
    length: int  # model input units (symbols or linguistic units)
    normalized: str
    phonemes: str  # the units as text, for debugging and alignment
    # Spoken characters per model input unit (timestamps); None: this frontend has none.
    alignment: SymbolAlignment | None = None


class VoiceTextFrontend(Protocol):
    max_units: int

    def encode(self, text: str, speaker: str, emotion: str) -> EncodedText: ...


def check_choice(manifest: VoiceManifest, kind: str, value: str | None) -> str:
    """`value` if the voice has it (None: the voice's default), else a VoiceInputError."""
    values = manifest.speakers if kind == "speaker" else manifest.emotions
    if value is None or value == "":
        return manifest.default_speaker if kind == "speaker" else manifest.default_emotion
    if value not in values:
        raise VoiceInputError(
            f"voice {manifest.name!r} has no {kind} {value!r}; choose one of: {', '.join(values)}"
        )
    return value


class BakerSymbolsFrontend:
    """Our normalization + G2P -> the Baker FastSpeech2's symbol ids (single speaker)."""

    max_units = c.AC_MAX_SYMBOLS

    def __init__(self) -> None:
        from mandarin_tts.text import TextFrontend

        self._frontend = TextFrontend()

    def encode(self, text: str, speaker: str, emotion: str) -> EncodedText:
        from mandarin_tts.text import TextFrontendError

        try:
            result = self._frontend.encode(text)
        except TextFrontendError as exc:
            raise VoiceInputError(str(exc)) from exc
        ids = np.asarray(result.ids, dtype=np.int64)
        return EncodedText(
            {c.AC_IN_IDS: ids},
            int(ids.size),
            result.normalized,
            result.phonemes,
            result.alignment,
        )


def load_text_frontend(manifest: VoiceManifest) -> VoiceTextFrontend:
    if manifest.text_frontend == FRONTEND_BAKER:
        return BakerSymbolsFrontend()
    if manifest.text_frontend == FRONTEND_KANTTS:
        from mandarin_tts.voices.kantts_frontend import KanttsTextFrontend

        return KanttsTextFrontend(manifest)
    raise VoiceManifestError(f"voice {manifest.name}: unknown text frontend")
