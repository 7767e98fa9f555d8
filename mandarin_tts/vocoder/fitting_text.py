"""Fitting sentences for the mel bridge, drawn from jieba's shipped word-frequency dictionary.

Random sequences of frequent words cover Mandarin syllables and tones broadly; they are
never the evaluation sentences (those stay held out for the intelligibility benchmark).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

_HANZI_WORD = re.compile(r"^[\u4e00-\u9fff]{1,4}$")
_CLAUSE_ENDS = ("，", "。", "？", "！")


@dataclass(frozen=True)
class FittingTextConfig:
    n_sentences: int = 240
    vocabulary_size: int = 6000
    min_words: int = 5
    max_words: int = 14
    seed: int = 20240521


def jieba_dictionary() -> Path:
    import jieba

    return Path(jieba.__file__).resolve().parent / "dict.txt"


def frequent_words(size: int, dictionary: Path | None = None) -> list[str]:
    """The `size` most frequent all-Hanzi words of jieba's dictionary."""
    entries: list[tuple[int, str]] = []
    for line in (dictionary or jieba_dictionary()).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and _HANZI_WORD.match(parts[0]) and parts[1].isdigit():
            entries.append((int(parts[1]), parts[0]))
    entries.sort(reverse=True)
    return [word for _, word in entries[:size]]


def fitting_sentences(
    config: FittingTextConfig = FittingTextConfig(),
    exclude: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """Deterministic pseudo-sentences (seeded), skipping any string in `exclude`."""
    rng = random.Random(config.seed)
    words = frequent_words(config.vocabulary_size)
    sentences: list[str] = []
    while len(sentences) < config.n_sentences:
        count = rng.randint(config.min_words, config.max_words)
        picked = [rng.choice(words) for _ in range(count)]
        if count > 8:  # a comma in longer ones gives the model a phrase break to render
            cut = rng.randint(3, count - 3)
            picked[cut - 1] += "，"
        sentence = "".join(picked) + rng.choice(_CLAUSE_ENDS[1:])
        if sentence not in exclude:
            sentences.append(sentence)
    return sentences
