from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from loadtest.users.textmix import DEFAULT_CORPUS_DIR, TextMix, load_corpus, parse_mix

CORPUS = {"short": ["好。", "请稍等。"], "sentence": ["今天天气很好。"], "paragraph": ["长" * 120]}


def test_parse_mix_reads_weights() -> None:
    assert parse_mix("short=5, sentence=4,paragraph=0.5") == {
        "short": 5.0,
        "sentence": 4.0,
        "paragraph": 0.5,
    }


@pytest.mark.parametrize("spec", ["", "short", "poem=1", "short=-1", "short=0,sentence=0"])
def test_parse_mix_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_mix(spec)


def test_draws_follow_the_weights() -> None:
    mix = TextMix(CORPUS, {"short": 3, "sentence": 1}, rng=random.Random(0))
    kinds = Counter(mix.draw().kind for _ in range(4000))
    assert set(kinds) == {"short", "sentence"}  # paragraph has no weight: never drawn
    assert 0.70 < kinds["short"] / 4000 < 0.80


def test_drawn_text_belongs_to_its_kind() -> None:
    mix = TextMix(CORPUS, {"short": 1, "sentence": 1, "paragraph": 1}, rng=random.Random(1))
    for _ in range(200):
        drawn = mix.draw()
        assert drawn.text in CORPUS[drawn.kind]


def test_max_chars_drops_long_texts_and_empty_kinds() -> None:
    mix = TextMix(CORPUS, {"short": 1, "paragraph": 5}, max_chars=85, rng=random.Random(2))
    assert mix.kinds == ["short"]
    assert all(mix.draw().kind == "short" for _ in range(50))


def test_nothing_fits_is_an_error() -> None:
    with pytest.raises(ValueError):
        TextMix(CORPUS, {"paragraph": 1}, max_chars=10)


def test_corpus_files_skip_comments_and_blank_lines(tmp_path: Path) -> None:
    (tmp_path / "short.txt").write_text("# comment\n\n你好。\n  谢谢。 \n", encoding="utf-8")
    assert load_corpus(tmp_path) == {"short": ["你好。", "谢谢。"]}


def test_shipped_corpus_has_every_kind_and_sentences_fit_one_triton_request() -> None:
    from frontend.chunking import HARD_MAX_CHARS

    corpus = load_corpus(DEFAULT_CORPUS_DIR)
    assert set(corpus) == {"short", "sentence", "paragraph"}
    assert all(len(t) <= HARD_MAX_CHARS for t in corpus["short"] + corpus["sentence"])
    assert all(len(t) > HARD_MAX_CHARS for t in corpus["paragraph"])
