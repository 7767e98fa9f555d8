"""CER, DNSMOS wrapper, per-system summaries and the tables of `make quality`."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mandarin_tts.eval.pinyin_error import ErrorCount
from mandarin_tts.eval.scoring import (
    Dnsmos,
    UtteranceScore,
    cer_units,
    char_errors,
    dnsmos,
    group_table,
    markdown_table,
    score_utterance,
    summarize,
)


def test_cer_ignores_script_digits_punctuation_and_case() -> None:
    assert char_errors("今天是3月8日，天气很好。", "今天是三月八日 天氣很好") == ErrorCount(0, 11)
    assert cer_units("请打开WiFi。") == list("请打开WIFI")


def test_cer_counts_substitutions_insertions_and_deletions() -> None:
    assert char_errors("请按井号键", "请按警号键") == ErrorCount(1, 5)
    assert char_errors("请按井号键", "请按井号键了") == ErrorCount(1, 5)
    assert char_errors("请按井号键", "请按号键") == ErrorCount(1, 5)
    assert char_errors("这款APP很好", "这款很好").errors == 3  # letters count


def _score(item_id: str, text: str, heard: str, ovrl: float) -> UtteranceScore:
    return score_utterance(item_id, text, heard, Dnsmos(ovrl, 3.0, 4.0, 3.5), 2.0, 0.5)


def test_summary_is_a_corpus_rate_weighted_by_length() -> None:
    short = _score("a", "你好", "你", 3.0)  # 1 of 2 syllables wrong
    long = _score("b", "今天天气真好适合散步", "今天天气真好适合散步", 2.0)  # 0 of 10
    total = summarize("x", [short, long])
    assert total.pinyin == ErrorCount(1, 12)
    assert total.per == pytest.approx(1 / 12)
    assert total.mos["ovrl"] == pytest.approx(2.5)
    assert (total.audio_s, total.synth_s) == (4.0, 1.0)


def test_table_rows_and_signed_differences() -> None:
    a = summarize("http", [_score("a", "你好世界", "你好事件", 3.0)])  # PER 25 %
    b = summarize("direct", [_score("a", "你好世界", "你好世界", 3.25)])  # PER 0 %
    table = markdown_table([a, b], [("http", "direct"), ("http", "missing")])
    lines = table.strip().splitlines()
    assert lines[2].startswith("| http | 1 | 25.00% |")
    assert "| http - direct | | +25.00 pt |" in table
    assert "-0.25" in lines[-1]  # OVRL 3.00 - 3.25
    assert "missing" not in table
    grouped = group_table([("codes", [a, b])], ["http", "direct", "other"])
    assert "| codes | 1 | 25.00% | 0.00% | - |" in grouped


def test_scores_survive_a_json_round_trip() -> None:
    score = _score("s-codes-01", "您的验证码是385917。", "您的验证码是385917", 3.1)
    again = UtteranceScore.from_json(score.to_json())
    assert again.pinyin == score.pinyin and again.chars == score.chars
    assert again.mos == score.mos and again.heard == score.heard
    no_mos = score_utterance("x", "你好", "你好", None, 1.0, 0.1)
    assert UtteranceScore.from_json(no_mos.to_json()).mos is None


def test_dnsmos_rejects_other_rates_and_empty_audio() -> None:
    with pytest.raises(ValueError, match="16000 Hz"):
        dnsmos(np.zeros(24_000, np.float32), 24_000)
    with pytest.raises(ValueError, match="non-empty"):
        dnsmos(np.zeros(0, np.float32))


@pytest.mark.skipif(importlib.util.find_spec("speechmos") is None, reason="speechmos absent")
def test_dnsmos_scores_speech_like_audio_above_noise() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(3 * 16_000) / 16_000
    # A voiced, syllable-rate modulated harmonic tone vs white noise of the same level;
    # out-of-range input is scaled, not rejected.
    voiced = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 8))
    tone = 1.5 * voiced * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) / np.abs(voiced).max()
    noise = rng.normal(0, 0.3, t.size)
    clean, noisy = dnsmos(tone), dnsmos(np.clip(noise, -1, 1))
    for result in (clean, noisy):
        for value in (result.ovrl, result.sig, result.bak, result.p808):
            assert 1.0 <= value <= 5.0
    assert clean.bak > noisy.bak
