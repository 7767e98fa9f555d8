"""Text normalization: raw text -> Chinese characters, spelled Latin letters, pause marks.

Order matters: characters are cleaned first (width forms, traditional -> simplified,
emoji/control characters dropped), then the specific number rules (codes, dates and
times, money and units) run before the generic ones (ranges, decimals, cardinals).
"""

from __future__ import annotations

import re

from mandarin_tts.text.normalize import addresses, codes, dates_times, latin, money_units, numeric
from mandarin_tts.text.normalize.charset import clean_characters, drop_spaces_next_to_chinese
from mandarin_tts.text.normalize.punctuation import (
    PAUSE_PUNCTUATION,
    canonical_punctuation,
    spoken_address_symbols,
    uppercase_letters,
)
from mandarin_tts.text.normalize.rules import apply_rules

# URLs and e-mail addresses first: their digits and dots are not numbers or sentence ends.
NUMBER_RULES = [
    *addresses.RULES,
    *codes.RULES,
    *dates_times.RULES,
    *money_units.RULES,
    *numeric.RULES,
]
LETTER_RULES = latin.RULES

# Inline markup (pronunciation spans the HTTP frontend inserts after it cleaned the user's
# text; private-use code points U+E000 ... U+E002): passed through untouched.
INLINE_SPAN = re.compile("\ue000[^\ue000\ue002]*\ue002")

_SPEAKABLE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fffA-Z]")

__all__ = ["INLINE_SPAN", "PAUSE_PUNCTUATION", "has_speakable_text", "normalize_text"]


def normalize_text(text: str) -> str:
    """'今天是2024年3月5日' -> '今天是二零二四年三月五日'. Inline spans stay as they are."""
    if "\ue000" not in text:
        return _normalize(text)
    pieces = INLINE_SPAN.split(text)
    spans = INLINE_SPAN.findall(text)
    out = [_normalize(pieces[0])]
    for span, piece in zip(spans, pieces[1:], strict=True):
        out += [span, _normalize(piece, at_start=False)]
    return "".join(out)


def _normalize(text: str, at_start: bool = True) -> str:
    text = clean_characters(text)
    text = apply_rules(NUMBER_RULES, text)
    text = spoken_address_symbols(text)
    text = apply_rules(LETTER_RULES, text)
    text = uppercase_letters(text)
    text = canonical_punctuation(text, at_start=at_start)
    text = drop_spaces_next_to_chinese(text)
    return re.sub(" +", " ", text).strip()


def has_speakable_text(normalized: str) -> bool:
    return _SPEAKABLE.search(normalized) is not None
