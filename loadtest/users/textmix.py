"""Weighted text mix drawn from a corpus: short prompts, single sentences, paragraphs.

The corpus is a folder with one file per kind (`short.txt`, `sentences.txt`,
`paragraphs.txt`), one text per line; `#` lines are comments. A mix spec such as
"short=5,sentence=4,paragraph=1" sets how often each kind is drawn.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"
KIND_FILES = {"short": "short.txt", "sentence": "sentences.txt", "paragraph": "paragraphs.txt"}
DEFAULT_MIX = "short=5,sentence=4,paragraph=1"


@dataclass(frozen=True)
class Text:
    kind: str
    text: str


def parse_mix(spec: str) -> dict[str, float]:
    """ "short=5,sentence=4" -> {"short": 5.0, "sentence": 4.0}; unknown kinds are errors."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kind, sep, value = part.partition("=")
        kind = kind.strip()
        if not sep or kind not in KIND_FILES:
            raise ValueError(f"bad mix entry {part!r}: use KIND=WEIGHT, KIND in {list(KIND_FILES)}")
        weight = float(value)
        if weight < 0:
            raise ValueError(f"negative weight in {part!r}")
        weights[kind] = weight
    if not any(w > 0 for w in weights.values()):
        raise ValueError(f"mix {spec!r} has no positive weight")
    return weights


def read_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def load_corpus(corpus_dir: Path = DEFAULT_CORPUS_DIR) -> dict[str, list[str]]:
    """Every kind whose file exists in `corpus_dir` (missing files give no entry)."""
    corpus = {}
    for kind, name in KIND_FILES.items():
        if (corpus_dir / name).exists():
            corpus[kind] = read_lines(corpus_dir / name)
    return corpus


class TextMix:
    """Draws texts: first a kind by weight, then a text of that kind uniformly.

    `max_chars` drops longer texts (a Triton request carries one sentence at most; only the
    HTTP frontend chunks paragraphs). Kinds left without texts are dropped from the mix.
    """

    def __init__(
        self,
        corpus: Mapping[str, Sequence[str]],
        weights: Mapping[str, float],
        max_chars: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.texts = {
            kind: [t for t in corpus.get(kind, ()) if max_chars is None or len(t) <= max_chars]
            for kind, weight in weights.items()
            if weight > 0
        }
        self.texts = {kind: texts for kind, texts in self.texts.items() if texts}
        if not self.texts:
            raise ValueError(f"no corpus text fits the mix {dict(weights)} (max_chars={max_chars})")
        self.kinds = list(self.texts)
        self.weights = [weights[kind] for kind in self.kinds]
        self.rng = rng or random.Random()

    def draw(self) -> Text:
        kind = self.rng.choices(self.kinds, weights=self.weights)[0]
        return Text(kind, self.rng.choice(self.texts[kind]))
