"""Character-level cleanup: width forms, traditional -> simplified, unspeakable characters.

Runs before the number rules, which therefore see ASCII digits and punctuation only.
"""

from __future__ import annotations

import re
import unicodedata

import zhconv

# NFKC would turn '²' into a plain '2' (m² -> m2); keep the superscripts for the unit rules.
_PROTECT = {"²": "\ue000", "³": "\ue001"}
_UNPROTECT = {v: k for k, v in _PROTECT.items()}

# Symbols that carry meaning for the number rules or map to words; all other symbols go.
_KEPT_SYMBOLS = frozenset("%‰°¥$€£+=~<>×÷/&²³")
_DASHES = {"\u2212": "-", "\u2013": "-", "\u2014": "—", "\u2015": "—", "\u2044": "/"}
_AFTER_NFKC: dict[str, str | int | None] = {**_UNPROTECT, **_DASHES}
_AFTER_NFKC_TABLE = str.maketrans(_AFTER_NFKC)

_WHITESPACE = re.compile(r"\s+")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_SPACE_NEXT_TO_CJK = re.compile(rf"(?<=[{_CJK}，。！？；：、]) | (?=[{_CJK}，。！？；：、])")


def is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _keep(char: str) -> bool:
    if char.isascii():
        return char.isprintable() or char in " \n\r\t"
    if is_cjk(char) or char in _KEPT_SYMBOLS:
        return True
    category = unicodedata.category(char)
    # Punctuation stays (prosody breaks); letters of other scripts, emoji (So), marks,
    # control/format/private/unassigned characters are not speakable by this voice.
    return category[0] == "P" or category == "Zs"


def clean_characters(text: str) -> str:
    """Full-width -> half-width, traditional -> simplified, drop emoji and control chars."""
    for char, placeholder in _PROTECT.items():
        text = text.replace(char, placeholder)
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_AFTER_NFKC_TABLE)
    text = "".join(c for c in text if _keep(c))
    text = _LINE_BREAKS.sub("。", text.strip())  # a line break ends a sentence
    text = zhconv.convert(text, "zh-hans")  # script conversion only, no regional wording
    text = _WHITESPACE.sub(" ", text).strip()
    return text


def drop_spaces_next_to_chinese(text: str) -> str:
    """Spaces only matter between Latin words; next to Chinese they are layout."""
    return _SPACE_NEXT_TO_CJK.sub("", text)
