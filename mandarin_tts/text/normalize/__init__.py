"""Text normalization: raw text -> Chinese characters, spelled Latin letters, pause marks.

Order matters: characters are cleaned first (width forms, traditional -> simplified,
emoji/control characters dropped), then the specific number rules (codes, dates and
times, money and units) run before the generic ones (ranges, decimals, cardinals).
"""

from __future__ import annotations

import re

from mandarin_tts.text.normalize import codes, dates_times, money_units, numeric
from mandarin_tts.text.normalize.charset import clean_characters, drop_spaces_next_to_chinese
from mandarin_tts.text.normalize.punctuation import (
    PAUSE_PUNCTUATION,
    canonical_punctuation,
    spoken_address_symbols,
    uppercase_letters,
)
from mandarin_tts.text.normalize.rules import apply_rules

NUMBER_RULES = [*codes.RULES, *dates_times.RULES, *money_units.RULES, *numeric.RULES]

_SPEAKABLE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Z]")

__all__ = ["PAUSE_PUNCTUATION", "has_speakable_text", "normalize_text"]


def normalize_text(text: str) -> str:
    """'今天是2024年3月5日' -> '今天是二零二四年三月五日'."""
    text = clean_characters(text)
    text = apply_rules(NUMBER_RULES, text)
    text = spoken_address_symbols(text)
    text = uppercase_letters(text)
    text = canonical_punctuation(text)
    text = drop_spaces_next_to_chinese(text)
    return re.sub(" +", " ", text).strip()


def has_speakable_text(normalized: str) -> bool:
    return _SPEAKABLE.search(normalized) is not None
