"""The held-out evaluation set (eval/): size, lengths, a balanced and stable split."""

from __future__ import annotations

from collections import Counter

import pytest

from mandarin_tts.eval import evalset
from mandarin_tts.eval.evalset import EvalItem, load_split, parse_source, split, validate
from mandarin_tts.paths import EVAL_SENTENCES


def test_committed_files_match_the_sources() -> None:
    assert evalset.main(["--check"]) == 0


def test_the_set_has_its_promised_size_and_lengths() -> None:
    items = load_split("dev") + load_split("test")
    kinds = Counter(item.kind for item in items)
    assert kinds["sentence"] >= 300
    assert kinds["paragraph"] >= 20
    for item in items:
        low, high = evalset.LENGTHS[item.kind]
        assert low <= len(item.text) <= high, item.id
    assert validate(items) == []


def test_dev_and_test_are_disjoint_and_balanced_by_category() -> None:
    dev, test = load_split("dev"), load_split("test")
    assert not {i.id for i in dev} & {i.id for i in test}
    assert not {i.text for i in dev} & {i.text for i in test}
    dev_counts = Counter((i.kind, i.category) for i in dev)
    test_counts = Counter((i.kind, i.category) for i in test)
    assert set(dev_counts) == set(test_counts)
    for group, count in dev_counts.items():
        assert abs(count - test_counts[group]) <= 1, group


@pytest.mark.skipif(not EVAL_SENTENCES.exists(), reason="the shared smoke set is absent")
def test_no_smoke_set_sentence_is_in_the_held_out_set() -> None:
    smoke = {line.strip() for line in EVAL_SENTENCES.read_text("utf-8").splitlines()}
    assert not smoke & {i.text for i in load_split("dev") + load_split("test")}


def _items(category: str, count: int) -> list[EvalItem]:
    return [
        EvalItem(f"s-{category}-{n:02d}", category, f"{category}句子{n}", "sentence")
        for n in range(count)
    ]


def test_adding_a_text_moves_no_existing_text_between_splits() -> None:
    items = _items("a", 9) + _items("b", 6)
    before = split(items)
    after = split(items + [EvalItem("s-a-99", "a", "新加的一句话", "sentence")])
    for name in evalset.SPLITS:
        moved = {i.id for i in before[name]} - {i.id for i in after[name]}
        # At most one item of the grown category changes side to keep the halves even.
        assert len(moved) <= 1
    assert split(items) == before  # no randomness


def test_odd_groups_give_the_extra_item_to_test() -> None:
    halves = split(_items("a", 5))
    assert (len(halves["dev"]), len(halves["test"])) == (2, 3)


def test_parse_source_numbers_ids_per_category_and_rejects_headerless_text() -> None:
    items = parse_source(
        ["# comment", "## x", "第一句。", "", "第二句。", "## y", "第三句。"], "sentence"
    )
    assert [i.id for i in items] == ["s-x-01", "s-x-02", "s-y-01"]
    with pytest.raises(ValueError, match="line 1"):
        parse_source(["没有标题的一句话。"], "sentence")


def test_validate_reports_length_duplicates_and_smoke_overlap() -> None:
    long = "长" * 81
    items = [
        EvalItem("s-a-01", "a", "好的。", "sentence"),
        EvalItem("s-a-02", "a", long, "sentence"),
        EvalItem("s-a-03", "a", "这是重复的一句话。", "sentence"),
        EvalItem("s-a-04", "a", "这是重复的一句话。", "sentence"),
    ]
    problems = "\n".join(validate(items, smoke=["这是重复的一句话。"]))
    assert "s-a-01: 3 characters" in problems
    assert "s-a-02: 81 characters" in problems
    assert "s-a-04: same text as s-a-03" in problems
    assert "copied from the smoke set" in problems


def test_unknown_split_is_refused() -> None:
    with pytest.raises(ValueError, match="dev, test"):
        load_split("train")
