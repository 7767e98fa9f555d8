"""Toneless pinyin error rate: edit distance between syllable sequences / reference syllables.

Whisper writes traditional characters and Arabic digits, and homophones are not TTS
errors, so both sides are normalised (digits -> Chinese numerals, traditional ->
simplified) and compared as toneless pinyin syllables; punctuation and non-Chinese text
are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_HANZI = re.compile(r"[\u4e00-\u9fff]")


def to_simplified(text: str) -> str:
    import zhconv

    return str(zhconv.convert(text, "zh-cn"))


def digits_to_chinese(text: str) -> str:
    """'3点' -> '三点', '12%' -> '百分之十二' (cn2an's an2cn transform); unchanged on failure."""
    import cn2an

    try:
        return str(cn2an.transform(text, "an2cn"))
    except Exception:  # cn2an raises on some odd strings; keep the text rather than fail
        return text


def toneless_pinyin(text: str) -> list[str]:
    """Normalised text -> toneless pinyin syllables of its Chinese characters only."""
    from pypinyin import Style, lazy_pinyin

    normalised = to_simplified(digits_to_chinese(text))
    hanzi = "".join(_HANZI.findall(normalised))
    return [syllable.replace("ü", "v") for syllable in lazy_pinyin(hanzi, style=Style.NORMAL)]


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance (substitutions, insertions, deletions all cost 1)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_item in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp_item in enumerate(hypothesis, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (ref_item != hyp_item),
            )
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class ErrorCount:
    errors: int
    reference_syllables: int

    @property
    def rate(self) -> float:
        return self.errors / self.reference_syllables if self.reference_syllables else 0.0

    def __add__(self, other: ErrorCount) -> ErrorCount:
        return ErrorCount(
            self.errors + other.errors, self.reference_syllables + other.reference_syllables
        )


def pinyin_errors(reference_text: str, hypothesis_text: str) -> ErrorCount:
    reference = toneless_pinyin(reference_text)
    return ErrorCount(edit_distance(reference, toneless_pinyin(hypothesis_text)), len(reference))


def pinyin_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus-level rate: total syllable edits / total reference syllables."""
    if len(references) != len(hypotheses):
        raise ValueError("references and hypotheses must pair up")
    total = ErrorCount(0, 0)
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        total = total + pinyin_errors(reference, hypothesis)
    return total.rate
