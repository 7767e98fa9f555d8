"""KAN-TTS linguistic units from our text frontend, and their ids.

A unit string is what ModelScope's closed `ttsfrd` frontend hands a Sambert voice: one
`{sy$tone$syllable_flag$word_segment$emotion$speaker}` per phone or prosody mark,
separated by spaces. We build it from our own frontend (normalization, jieba words,
pypinyin readings with our polyphone rules, tone sandhi, erhua) in the layout KAN-TTS's
training data has (kantts/preprocess/script_convertor writes it):

* each word's phones, then one prosody mark `{#N$tone_none$s_none$word_none$..}`:
  '#1' between words, '#2' at '、', '#3' at other punctuation, '#4' after the last word;
  nothing before the first word;
* syllable_flag: s_begin / s_middle / s_end for the phones of a syllable, s_both when it
  has one phone;
* word_segment: word_begin for the first syllable's phones, word_end for the last's,
  word_middle between, word_both for a one-phone word; then, per phone, a word_begin
  phone that does not start its syllable becomes word_middle (word_end when the word has
  one syllable and the phone ends it), and a word_end phone that does not end its
  syllable becomes word_middle. So 好 = {h_c$..$s_begin$word_begin} {ao_c$..$s_end$word_end}.

`encode_units` gives the ids KanTtsLinguisticUnit.encode_symbol_sequence gives, including
the trailing '~' (end) unit it appends (the framing mandarin_tts.sambert.framing.SambertItem
takes; ModelScope then feeds the acoustic model `ling[:, :-1]`, without it).
`append_eos=False` leaves it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mandarin_tts.contract import TEXT_MAX_CHARS
from mandarin_tts.kantts.errors import KanttsUnitsError
from mandarin_tts.kantts.phones import Syllable, letter_syllables, syllable_phones
from mandarin_tts.kantts.tables import FIELDS, SY_PREFIX, UnitTables
from mandarin_tts.text.frontend import TextFrontendError, tokens_of
from mandarin_tts.text.g2p import G2P, Pause, Word
from mandarin_tts.text.lexicon import LexiconFile

DEFAULT_EMOTION = "emotion_neutral"
BETWEEN_WORDS = "#1"
SENTENCE_END = "#4"
NO_TONE, NO_SYLLABLE, NO_WORD = "tone_none", "s_none", "word_none"


@dataclass(frozen=True)
class Unit:
    sy: str
    tone: str
    syllable_flag: str
    word_segment: str
    emotion: str
    speaker: str

    def __str__(self) -> str:
        return "{" + "$".join(getattr(self, f) for f in FIELDS) + "}"


def parse_units(text: str) -> list[Unit]:
    """'{h_c$tone3$s_begin$word_begin$emotion_neutral$F7} {...}' -> units (6 fields each)."""
    units = []
    for n, item in enumerate(text.split(), 1):
        if not (item.startswith("{") and item.endswith("}")):
            raise KanttsUnitsError(f"unit {n} {item!r} is not enclosed in braces")
        fields = item[1:-1].split("$")
        if len(fields) != len(FIELDS) or not all(fields):
            raise KanttsUnitsError(
                f"unit {n} {item!r} has {len(fields)} fields; expected {{{'$'.join(FIELDS)}}}"
            )
        units.append(Unit(*fields))
    if not units:
        raise KanttsUnitsError("no units in the unit string")
    return units


def format_units(units: Sequence[Unit]) -> str:
    return " ".join(str(u) for u in units)


@dataclass(frozen=True)
class EncodedUnits:
    """Ids for the Sambert acoustic model; T = number of units + 1 (the '~' unit) by default."""

    ling: np.ndarray  # int64 [T, 4]: sy, tone, syllable_flag, word_segment ids
    emotion: np.ndarray  # int64 [T]
    speaker: np.ndarray  # int64 [T]
    units: str  # the unit string (without the '~' unit, which has no text form)
    has_eos: bool = True

    def __len__(self) -> int:
        return int(self.ling.shape[0])

    @property
    def n_units(self) -> int:
        """Units of the text, without the trailing '~' unit."""
        return len(self) - int(self.has_eos)


def _lookup(tables: UnitTables, field_name: str, symbol: str, n: int) -> int:
    index = tables.index(field_name)
    key = SY_PREFIX + symbol if field_name == "sy" else symbol
    if key not in index or symbol in ("_", "~", "[MASK]", "@[MASK]"):
        if field_name == "speaker":
            valid = ", ".join(tables.speakers)
        elif field_name == "emotion":
            valid = ", ".join(tables.emotions)
        else:
            valid = f"{len(index) - 3} names in {tables.source}"
        raise KanttsUnitsError(f"unit {n}: unknown {field_name} {symbol!r} (valid: {valid})")
    return index[key]


def encode_units(
    units: str | Sequence[Unit], tables: UnitTables, append_eos: bool = True
) -> EncodedUnits:
    """Unit string (or parsed units) -> ids. Unknown symbols raise (KAN-TTS would silently
    drop an unknown sy and misalign the fields; a KeyError for the others)."""
    parsed = parse_units(units) if isinstance(units, str) else list(units)
    rows = [[_lookup(tables, f, getattr(u, f), n) for f in FIELDS] for n, u in
            enumerate(parsed, 1)]  # fmt: skip
    if append_eos:
        eos = tables.eos_ids()
        rows.append([eos[f] for f in FIELDS])
    ids = np.asarray(rows, dtype=np.int64).reshape(len(rows), len(FIELDS))
    return EncodedUnits(
        ling=np.ascontiguousarray(ids[:, :4]),
        emotion=np.ascontiguousarray(ids[:, 4]),
        speaker=np.ascontiguousarray(ids[:, 5]),
        units=format_units(parsed),
        has_eos=append_eos,
    )


def _position(index: int, count: int, first: str, middle: str, last: str, only: str) -> str:
    if count == 1:
        return only
    if index == 0:
        return first
    return last if index == count - 1 else middle


def _segment(word_pos: str, flag: str, single_syllable: bool) -> str:
    """A phone's word_segment from its syllable's position in the word and its own flag."""
    if word_pos == "word_begin" and flag == "s_end" and single_syllable:
        return "word_end"
    inside_begin = word_pos == "word_begin" and flag not in ("s_begin", "s_both")
    inside_end = word_pos == "word_end" and flag not in ("s_end", "s_both")
    return "word_middle" if inside_begin or inside_end else word_pos


def _word_units(syllables: list[Syllable], emotion: str, speaker: str) -> list[Unit]:
    word_phones = sum(len(s.phones) for s in syllables)
    out = []
    for index, syllable in enumerate(syllables):
        # By syllable; a one-syllable word of 2+ phones starts as word_begin (see _segment).
        if word_phones == 1:
            word_pos = "word_both"
        elif index == 0:
            word_pos = "word_begin"
        else:
            word_pos = "word_end" if index == len(syllables) - 1 else "word_middle"
        count = len(syllable.phones)
        for k, phone in enumerate(syllable.phones):
            flag = _position(k, count, "s_begin", "s_middle", "s_end", "s_both")
            segment = _segment(word_pos, flag, len(syllables) == 1)
            out.append(Unit(phone, syllable.tone, flag, segment, emotion, speaker))
    return out


class KanttsUnitsFrontend:
    """Text -> KAN-TTS units for one voice's tables. Build once (jieba loads in ~1 s)."""

    def __init__(
        self,
        tables: UnitTables,
        g2p: G2P | None = None,
        max_chars: int = TEXT_MAX_CHARS,
        lexicon: LexiconFile | None = None,
    ) -> None:
        self.tables = tables
        self.max_chars = max_chars
        self._g2p = g2p or G2P()
        self._lexicon = lexicon  # the deployment lexicon, if any (inline spans otherwise)

    def _check(self, speaker: str | None, emotion: str) -> str:
        speaker = self.tables.default_speaker if speaker is None else speaker
        if speaker not in self.tables.speakers:
            raise KanttsUnitsError(
                f"unknown speaker {speaker!r}; this voice has: {', '.join(self.tables.speakers)}"
            )
        if emotion not in self.tables.emotions:
            raise KanttsUnitsError(
                f"unknown emotion {emotion!r}; valid: {', '.join(self.tables.emotions)}"
            )
        return speaker

    def words(self, text: str) -> list[tuple[list[Syllable], str]]:
        """Each word's syllables and the prosody mark that follows it."""
        if not isinstance(text, str):
            raise TextFrontendError(f"TEXT must be a string, got {type(text).__name__}")
        if len(text) > self.max_chars:
            raise TextFrontendError(
                f"TEXT has {len(text)} characters; one request takes at most {self.max_chars}"
            )
        lexicon = self._lexicon.current() if self._lexicon is not None else None
        tokens, _ = tokens_of(text, self._g2p, lexicon)
        items: list[tuple[list[Syllable], str]] = []
        for token in tokens:
            if isinstance(token, Pause):
                if items:  # a leading pause has nothing to separate
                    syllables, mark = items[-1]
                    items[-1] = (syllables, max(mark, token.mark))
                continue
            assert isinstance(token, Word)
            if token.is_letters:
                syllables = letter_syllables(token.text)
            else:
                syllables = [syllable_phones(s) for s in token.syllables]
            if syllables:
                items.append((syllables, BETWEEN_WORDS))
        if not items:
            raise TextFrontendError(
                "TEXT has nothing speakable (only punctuation, emoji, symbols or unsupported "
                "scripts); send Chinese text, numbers or Latin letters"
            )
        items[-1] = (items[-1][0], SENTENCE_END)
        return items

    def unit_list(
        self, text: str, speaker: str | None = None, emotion: str = DEFAULT_EMOTION
    ) -> list[Unit]:
        speaker = self._check(speaker, emotion)
        out: list[Unit] = []
        for syllables, mark in self.words(text):
            out.extend(_word_units(syllables, emotion, speaker))
            out.append(Unit(mark, NO_TONE, NO_SYLLABLE, NO_WORD, emotion, speaker))
        return out

    def units(self, text: str, speaker: str | None = None, emotion: str = DEFAULT_EMOTION) -> str:
        return format_units(self.unit_list(text, speaker, emotion))

    def encode(
        self,
        text: str,
        speaker: str | None = None,
        emotion: str = DEFAULT_EMOTION,
        append_eos: bool = True,
    ) -> EncodedUnits:
        return encode_units(self.unit_list(text, speaker, emotion), self.tables, append_eos)
