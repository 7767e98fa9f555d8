"""The `kantts_units` text frontend: our G2P -> KAN-TTS linguistic units -> the voice's ids.

The voice's tables (the ids its checkpoint was trained with) are stored in the installed
voice folder by the importer (file role `unit_tables`). Emotions are named without
KAN-TTS's `emotion_` prefix in the manifest and the API ("happy", not "emotion_happy").
"""

from __future__ import annotations

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.voices.manifest import VoiceManifest
from mandarin_tts.voices.text_frontends import EncodedText, VoiceInputError

EMOTION_PREFIX = "emotion_"
UNIT_TABLES_ROLE = "unit_tables"


def public_emotion(table_name: str) -> str:
    return table_name.removeprefix(EMOTION_PREFIX)


def table_emotion(public_name: str) -> str:
    return EMOTION_PREFIX + public_name


class KanttsTextFrontend:
    max_units = c.AC_MAX_SYMBOLS

    def __init__(self, manifest: VoiceManifest) -> None:
        from mandarin_tts.kantts.tables import UnitTables
        from mandarin_tts.kantts.units import KanttsUnitsFrontend
        from mandarin_tts.text.lexicon import lexicon_from_env

        path = manifest.path(UNIT_TABLES_ROLE)
        tables = UnitTables.from_json(path.read_text(encoding="utf-8"), source=str(path))
        self._units = KanttsUnitsFrontend(tables, lexicon=lexicon_from_env())

    def encode(self, text: str, speaker: str, emotion: str) -> EncodedText:
        from mandarin_tts.kantts.errors import KanttsUnitsError
        from mandarin_tts.text.frontend import TextFrontendError

        try:
            encoded = self._units.encode(text, speaker, table_emotion(emotion), append_eos=True)
        except (KanttsUnitsError, TextFrontendError) as exc:
            raise VoiceInputError(str(exc)) from exc
        units = len(encoded) - 1  # without the end-of-sentence unit the framing adds
        if units > self.max_units:
            raise VoiceInputError(
                f"TEXT expands to {units} linguistic units; the acoustic model takes at most "
                f"{self.max_units}. Split it into shorter sentences."
            )
        return EncodedText(
            {
                c.AC_IN_UNITS: np.asarray(encoded.ling, np.int64),
                c.AC_IN_EMOTION_IDS: np.asarray(encoded.emotion, np.int64),
                c.AC_IN_SPEAKER_IDS: np.asarray(encoded.speaker, np.int64),
            },
            units,
            text,
            encoded.units,
        )
