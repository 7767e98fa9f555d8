"""Grapheme to phoneme: jieba words -> toned pinyin per syllable, before tone sandhi.

Readings come from pypinyin's phrase data, looked up per jieba word so that the word
decides the polyphone (银行 háng / 行长 háng zhǎng), then the override tables apply.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

import jieba
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT

from mandarin_tts.text.letters import spell
from mandarin_tts.text.normalize.charset import is_cjk
from mandarin_tts.text.normalize.punctuation import ENUMERATION, PAUSE_PUNCTUATION
from mandarin_tts.text.overrides import (
    NEUTRAL_LAST,
    NOT_ERHUA,
    WORD_READINGS,
    single_char_reading,
)

# Characters whose reading inside a word pypinyin does not know comes from the context rule.
_CONTEXT_CHARS = frozenset("还长得行")
_SYLLABLE = re.compile(r"^[a-zv]+[1-5]$")
_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[A-Z]+|[" + PAUSE_PUNCTUATION + "]")


@dataclass
class Word:
    """A word and its syllables ('hang2'; erhua spelled 'huar1'), one per kept character."""

    text: str
    syllables: list[str] = field(default_factory=list)
    is_letters: bool = False
    # Read exactly as given (an inline pronunciation span): sandhi leaves it alone.
    fixed: bool = False


@dataclass(frozen=True)
class Pause:
    mark: str  # prosody boundary symbol, '#2' or '#3'


Token = Word | Pause


def _no_reading(chars: str) -> list[str]:
    """One placeholder per character without a reading (pypinyin accepts a list)."""
    return ["-"] * len(chars)


@lru_cache(maxsize=65536)
def _cached_pinyin(text: str) -> tuple[str | None, ...]:
    """pypinyin is most of the frontend's time; words repeat, so readings are cached."""
    raw = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True,
                      errors=cast(Any, _no_reading))  # fmt: skip
    return tuple(s if _SYLLABLE.match(s) else None for s in raw)


def _pinyin(text: str) -> list[str | None]:
    return list(_cached_pinyin(text))


def clear_reading_cache() -> None:
    """Forget cached readings (benchmarks use it to measure the uncached speed)."""
    _cached_pinyin.cache_clear()


def _outside_phrases(text: str, i: int) -> bool:
    """True when pypinyin reads text[i] on its own (no known phrase of the word covers it)."""
    if text[i] not in _CONTEXT_CHARS:
        return False
    return not any(
        text[a:b] in PHRASES_DICT
        for a in range(max(0, i - 3), i + 1)
        for b in range(max(a + 2, i + 1), min(len(text), a + 5) + 1)
    )


def _set_tone(syllable: str, tone: str) -> str:
    return syllable[:-1] + tone


class G2P:
    def __init__(self) -> None:
        jieba.setLogLevel(logging.WARNING)
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.initialize()  # builds the prefix dictionary once (~1 s)
        for word in WORD_READINGS:
            self._tokenizer.add_word(word)

    def is_word(self, text: str) -> bool:
        return self._tokenizer.FREQ.get(text, 0) > 0

    def segment(self, normalized: str) -> list[str]:
        pieces: list[str] = []
        for token in self._tokenizer.lcut(normalized, HMM=True):
            pieces.extend(_RUNS.findall(token))
        return pieces

    def convert(self, normalized: str) -> list[Token]:
        pieces = self.segment(normalized)
        tokens: list[Token] = []
        for i, piece in enumerate(pieces):
            if piece in PAUSE_PUNCTUATION:
                tokens.append(Pause("#2" if piece in ENUMERATION else "#3"))
            elif piece.isascii():
                tokens.append(Word(piece, spell(piece), is_letters=True))
            else:
                prev = pieces[i - 1] if i > 0 and is_cjk(pieces[i - 1][0]) else ""
                nxt = pieces[i + 1] if i + 1 < len(pieces) and is_cjk(pieces[i + 1][0]) else ""
                word = self._chinese_word(piece, prev, nxt)
                if word.syllables:
                    tokens.append(word)
        return tokens

    def _chinese_word(self, text: str, prev: str, nxt: str) -> Word:
        if text in WORD_READINGS:
            readings: list[str | None] = list(WORD_READINGS[text])
        else:
            readings = _pinyin(text)
            if len(readings) != len(text):  # defensive: keep one reading per character
                readings = [r for c in text for r in _pinyin(c)]
            if len(text) == 1 or text not in PHRASES_DICT:
                for i, char in enumerate(text):
                    reading = readings[i]
                    if reading and (len(text) == 1 or _outside_phrases(text, i)):
                        before = text[:i] or prev
                        after = text[i + 1 :] or nxt
                        readings[i] = single_char_reading(char, before, after, reading)
        if text in NEUTRAL_LAST and readings[-1]:
            readings[-1] = _set_tone(readings[-1], "5")
        chars = [c for c, r in zip(text, readings, strict=True) if r]
        syllables = [r for r in readings if r]
        if len(chars) >= 2 and chars[-1] == "儿" and text not in NOT_ERHUA:
            syllables[-2] = syllables[-2][:-1] + "r" + syllables[-2][-1]  # hua1 -> huar1
            syllables.pop()
            chars.pop()
        return Word("".join(chars), syllables)
