"""The override tables are well-formed: one valid syllable per character."""

from __future__ import annotations

import pytest

from mandarin_tts.text.overrides import NEUTRAL_LAST, NOT_ERHUA, WORD_READINGS
from mandarin_tts.text.symbols import syllable_symbols, symbol_to_id


@pytest.mark.parametrize(("word", "readings"), sorted(WORD_READINGS.items()))
def test_word_readings_cover_each_character(word, readings):
    assert len(readings) == len(word)
    table = symbol_to_id()
    for syllable in readings:
        assert all(symbol in table for symbol in syllable_symbols(syllable))


def test_neutral_and_erhua_tables_hold_chinese_words():
    assert all(len(w) >= 2 for w in NEUTRAL_LAST)
    assert all(w.endswith("儿") for w in NOT_ERHUA)


def test_neutral_table_applies(frontend):
    for word in ("朋友", "窗户", "打算"):
        assert frontend.encode(word).pinyin[-1].endswith("5")
