"""Symbol tables of a KAN-TTS Sambert voice, with the ids KAN-TTS's KanTtsLinguisticUnit uses.

Each of the six unit fields has its own id table, built as KAN-TTS builds it:

* sy: the phones of PhoneSet.xml in file order, then '#1'..'#4', each with an '@' prefix
  (so '@a_c' = 0), then the specials '_' (pad), '~' (end of sequence), '@[MASK]';
* tone: tonelist.txt line by line, 'tone<N>' for a number and 'tone_none' for an empty
  line (tone1, tone_none, tone4, tone2, tone3, tone5, tone0), then the three specials;
* syllable_flag: s_begin, s_end, s_none, s_both, s_middle, then the specials;
* word_segment: word_begin, word_end, word_middle, word_both, word_none, then the specials;
* emotion: emotion_types (33 names), then the specials;
* speaker: the am config's `linguistic_unit.speaker_list` (comma separated), then the specials.

`unit_sizes()` gives the embedding sizes the acoustic model is built with (KAN-TTS's
get_unit_size, lowered by one per table when ModelScope loads a legacy voice whose model
card says `has_mask: false`).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mandarin_tts.kantts.errors import KanttsUnitsError
from mandarin_tts.voice_files import read_document

DATA_DIR = Path(__file__).with_name("data")
PHONESET_XML = DATA_DIR / "PhoneSet.xml"
TONELIST_TXT = DATA_DIR / "tonelist.txt"
EMOTIONS_TXT = DATA_DIR / "emotion_types.txt"

PAD = "_"
EOS = "~"
MASK = "@[MASK]"
SPECIALS = (PAD, EOS, MASK)
SY_PREFIX = "@"
PROSODY_MARKS = ("#1", "#2", "#3", "#4")
SYLLABLE_FLAGS = ("s_begin", "s_end", "s_none", "s_both", "s_middle")
WORD_SEGMENTS = ("word_begin", "word_end", "word_middle", "word_both", "word_none")
# The only feature layout ModelScope's voice.py can feed a Sambert model (it indexes them).
LFEAT_TYPES = ("sy", "tone", "syllable_flag", "word_segment", "emo_category", "speaker_category")
FIELDS = ("sy", "tone", "syllable_flag", "word_segment", "emotion", "speaker")
JSON_FORMAT = "kantts-unit-tables/1"
_PHONESET_NS = "{http://schemas.alibaba-inc.com/tts}"


@lru_cache(maxsize=1)
def pinyin_phones() -> tuple[str, ...]:
    """Phone names of PhoneSet.xml in file order (140 for PinYin)."""
    root = ET.parse(PHONESET_XML).getroot()
    names = []
    for phone in root.findall(f"{_PHONESET_NS}phone"):
        name = phone.find(f"{_PHONESET_NS}name")
        if name is None or not name.text:
            raise KanttsUnitsError(f"{PHONESET_XML}: a <phone> without a <name>")
        names.append(name.text)
    return tuple(names)


@lru_cache(maxsize=1)
def pinyin_tones() -> tuple[str, ...]:
    lines = TONELIST_TXT.read_text(encoding="utf-8").splitlines()
    return tuple(f"tone{line.strip()}" if line.strip() else "tone_none" for line in lines)


@lru_cache(maxsize=1)
def emotion_types() -> tuple[str, ...]:
    return tuple(line for line in EMOTIONS_TXT.read_text(encoding="utf-8").split() if line)


@dataclass(frozen=True)
class UnitTables:
    """The six id tables of one voice (each ends with '_', '~', '@[MASK]')."""

    sy: tuple[str, ...]
    tone: tuple[str, ...]
    syllable_flag: tuple[str, ...]
    word_segment: tuple[str, ...]
    emotion: tuple[str, ...]
    speaker: tuple[str, ...]
    language: str = "PinYin"
    cleaners: tuple[str, ...] = ("english_cleaners",)
    source: str = "<tables>"

    # --- construction ------------------------------------------------------------------
    @classmethod
    def for_speakers(cls, speakers: list[str] | tuple[str, ...], source: str = "<tables>",
                     cleaners: tuple[str, ...] = ("english_cleaners",)) -> UnitTables:  # fmt: skip
        """The PinYin tables KAN-TTS builds for a config whose speaker_list is `speakers`."""
        speakers = tuple(speakers)
        if not speakers or any(not s or "$" in s or " " in s for s in speakers):
            raise KanttsUnitsError(f"{source}: bad speaker_list {list(speakers)!r}")
        if len(set(speakers)) != len(speakers):
            raise KanttsUnitsError(f"{source}: speaker_list repeats a name: {list(speakers)!r}")
        phones = pinyin_phones() + PROSODY_MARKS
        return cls(
            sy=tuple(SY_PREFIX + p for p in phones) + SPECIALS,
            tone=pinyin_tones() + SPECIALS,
            syllable_flag=SYLLABLE_FLAGS + SPECIALS,
            word_segment=WORD_SEGMENTS + SPECIALS,
            emotion=emotion_types() + SPECIALS,
            speaker=speakers + SPECIALS,
            cleaners=cleaners,
            source=source,
        )

    @classmethod
    def from_am_config_data(cls, config: Any, source: str = "<am config>") -> UnitTables:
        if not isinstance(config, Mapping) or not isinstance(config.get("linguistic_unit"),
                                                             Mapping):  # fmt: skip
            raise KanttsUnitsError(f"{source}: no linguistic_unit section (not a Sambert config)")
        unit = config["linguistic_unit"]
        language = unit.get("language", "PinYin")
        if language != "PinYin":
            raise KanttsUnitsError(
                f"{source}: linguistic_unit.language {language!r} is not supported (PinYin only)"
            )
        raw_types = str(unit.get("lfeat_type_list", "")).strip()
        types = tuple(t.strip() for t in raw_types.split(","))
        if "byte_index" in types:
            raise KanttsUnitsError(
                f"{source}: byte input (lfeat_type_list {raw_types!r}, a *_byte voice) is not "
                "supported; only phone units"
            )
        if types != LFEAT_TYPES:
            raise KanttsUnitsError(
                f"{source}: lfeat_type_list {raw_types!r} is not supported; expected "
                f"{','.join(LFEAT_TYPES)}"
            )
        speakers = [s.strip() for s in str(unit.get("speaker_list", "")).strip().split(",")]
        cleaners = tuple(c.strip() for c in str(unit.get("cleaners", "")).split(",") if c.strip())
        return cls.for_speakers(speakers, source=source, cleaners=cleaners)

    @classmethod
    def from_am_config(cls, path: Path) -> UnitTables:
        path = Path(path)
        data = read_document(path, KanttsUnitsError, "acoustic model config")
        return cls.from_am_config_data(data, str(path))

    # --- JSON (an installed voice keeps its tables next to its models) ------------------
    def to_json(self) -> str:
        body = {"format": JSON_FORMAT, "language": self.language, "cleaners": list(self.cleaners)}
        body.update({name: list(getattr(self, name)) for name in FIELDS})
        return json.dumps(body, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str, source: str = "<json>") -> UnitTables:
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KanttsUnitsError(f"{source}: not JSON ({exc})") from None
        if not isinstance(body, dict) or body.get("format") != JSON_FORMAT:
            raise KanttsUnitsError(f"{source}: not a {JSON_FORMAT} document")
        fields: dict[str, tuple[str, ...]] = {}
        for name in FIELDS:
            values = body.get(name)
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise KanttsUnitsError(f"{source}: {name!r} must be a list of strings")
            if tuple(values[-3:]) != SPECIALS or len(set(values)) != len(values):
                raise KanttsUnitsError(
                    f"{source}: {name!r} must be unique names ending with {list(SPECIALS)}"
                )
            fields[name] = tuple(values)
        return cls(
            **fields,
            language=str(body.get("language", "PinYin")),
            cleaners=tuple(body.get("cleaners", [])),
            source=source,
        )

    # --- lookups -------------------------------------------------------------------------
    @property
    def speakers(self) -> tuple[str, ...]:
        return self.speaker[: -len(SPECIALS)]

    @property
    def emotions(self) -> tuple[str, ...]:
        return self.emotion[: -len(SPECIALS)]

    @property
    def default_speaker(self) -> str:
        return self.speakers[0]

    def index(self, field_name: str) -> dict[str, int]:
        return _index(getattr(self, field_name))

    def unit_sizes(self, has_mask: bool = True) -> dict[str, int]:
        """Embedding sizes for the acoustic model (KAN-TTS names: sy, tone, ..., speaker)."""
        drop = 0 if has_mask else 1
        return {name: len(getattr(self, name)) - drop for name in FIELDS}

    def eos_ids(self) -> dict[str, int]:
        return {name: self.index(name)[EOS] for name in FIELDS}

    def pad_ids(self) -> dict[str, int]:
        return {name: self.index(name)[PAD] for name in FIELDS}


@lru_cache(maxsize=64)
def _index(values: tuple[str, ...]) -> dict[str, int]:
    return {v: i for i, v in enumerate(values)}
