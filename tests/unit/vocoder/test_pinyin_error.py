"""The toneless pinyin error rate used by the intelligibility benchmark (mandarin_tts.eval)."""

from __future__ import annotations

import pytest

from mandarin_tts.eval.pinyin_error import (
    edit_distance,
    pinyin_error_rate,
    pinyin_errors,
    toneless_pinyin,
)


def test_traditional_digits_and_punctuation_are_normalised() -> None:
    assert toneless_pinyin("會議在下午3點。") == ["hui", "yi", "zai", "xia", "wu", "san", "dian"]
    assert pinyin_error_rate(["会议在下午三点"], ["會議在下午3點！"]) == 0.0


def test_homophones_are_not_errors_but_other_syllables_are() -> None:
    assert pinyin_errors("公式", "攻势").errors == 0  # gong shi either way
    count = pinyin_errors("我们一起去长城看看吧", "我们一起去尝尝看吧")
    assert count.reference_syllables == 10
    assert count.errors == 2  # cheng -> chang substituted, one 'kan' dropped


def test_edit_distance_basics() -> None:
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("abc", "") == 3
    assert edit_distance("", "ab") == 2
    assert edit_distance("kitten", "sitting") == 3


def test_corpus_rate_pools_syllables() -> None:
    rate = pinyin_error_rate(["你好", "今天天气很好"], ["你好", "今天天气"])
    assert rate == pytest.approx(2 / 8)
    with pytest.raises(ValueError):
        pinyin_error_rate(["a"], [])
