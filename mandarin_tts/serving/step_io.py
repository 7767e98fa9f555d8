"""The tensors between a voice's step models, per family, defined once for the renderer
(config.pbtxt dims and dtypes) and the steps (request validation)."""

from __future__ import annotations

from dataclasses import dataclass

from mandarin_tts import contract as c
from mandarin_tts.voices.manifest import FAMILY_FASTSPEECH2, FAMILY_SAMBERT

SCALES = (
    (c.TTS_IN_SPEED, c.AC_IN_SPEED, c.SPEED_RANGE, "speed"),
    (c.TTS_IN_PITCH, c.AC_IN_PITCH, c.PITCH_RANGE, "pitch"),
    (c.TTS_IN_ENERGY, c.AC_IN_ENERGY, c.ENERGY_RANGE, "energy"),
)
CHOICES = ((c.TTS_IN_SPEAKER, "speaker"), (c.TTS_IN_EMOTION, "emotion"))


@dataclass(frozen=True)
class SequenceTensor:
    """A per-request [T, *trailing] tensor; all of one step's sequences share T."""

    name: str
    trailing: tuple[int, ...] = ()
    dtype: str = "int64"  # numpy name


# What the text frontend step emits and the acoustic step takes, per family; the first
# sequence defines the length.
ACOUSTIC_SEQUENCES: dict[str, tuple[SequenceTensor, ...]] = {
    FAMILY_FASTSPEECH2: (SequenceTensor(c.AC_IN_IDS),),
    FAMILY_SAMBERT: (
        SequenceTensor(c.AC_IN_UNITS, (c.UNIT_FEATURES,)),
        SequenceTensor(c.AC_IN_EMOTION_IDS),
        SequenceTensor(c.AC_IN_SPEAKER_IDS),
    ),
}

# Longest inputs the steps accept when called directly (the ensemble's text limit is far
# below): units per request, mel frames per request.
MAX_UNITS = c.AC_MAX_SYMBOLS
MAX_FRAMES = c.AC_MAX_FRAMES

# Timestamps: families whose acoustic model reports per-symbol durations. Their text
# frontend step also emits which character each symbol belongs to; the ensemble passes
# both on as optional outputs (contract.TTS_OUT_DURATIONS ...).
ALIGNED_FAMILIES = frozenset({FAMILY_FASTSPEECH2})
# (name, numpy dtype name or "bytes") per text frontend step output, per request [-1].
TEXT_ALIGNMENT_OUTPUTS = (
    (c.TTS_OUT_SYMBOL_CHARS, "int32"),
    (c.TTS_OUT_CHARS, "bytes"),
    (c.TTS_OUT_CHAR_PINYIN, "bytes"),
)


def has_alignment(family: str) -> bool:
    return family in ALIGNED_FAMILIES
