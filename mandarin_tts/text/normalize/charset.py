"""Character-level cleanup: width forms, traditional -> simplified, unspeakable characters.

Runs before the number rules, which therefore see ASCII digits and punctuation only.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import zhconv
from pypinyin.pinyin_dict import pinyin_dict as PINYIN_DICT

# NFKC would turn '²' into a plain '2' (m² -> m2); keep the superscripts for the unit rules.
# The placeholders are noncharacters (U+FDD0..), removed from the input first; private-use
# code points are not used: U+E000.. is the inline markup of normalize.INLINE_SPAN.
_PROTECT = {"²": "\ufdd0", "³": "\ufdd1"}
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
        text = text.replace(placeholder, "").replace(char, placeholder)
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_AFTER_NFKC_TABLE)
    text = "".join(c for c in text if _keep(c))
    text = _LINE_BREAKS.sub("。", text.strip())  # a line break ends a sentence
    text = to_simplified(text)
    text = _WHITESPACE.sub(" ", text).strip()
    return text


def to_simplified(text: str) -> str:
    """Traditional -> simplified (script conversion only, no regional wording).

    zhconv maps some rare characters to forms no later step reads: outside the BMP (蒭, 騊;
    the G2P reads U+3400..U+9FFF) or without a pypinyin reading (擥 -> 㧛). Those keep their
    traditional form, which pypinyin reads."""
    converted = zhconv.convert(text, "zh-hans")
    if all(_readable(c) for c in converted):
        return converted
    return "".join(_simplified_char(c) for c in text)


def _readable(char: str) -> bool:
    if ord(char) > 0xFFFF:
        return False
    return not is_cjk(char) or ord(char) in PINYIN_DICT


@lru_cache(maxsize=4096)
def _simplified_char(char: str) -> str:
    simplified = zhconv.convert(char, "zh-hans")
    return simplified if all(_readable(c) for c in simplified) else char


def drop_spaces_next_to_chinese(text: str) -> str:
    """Spaces only matter between Latin words; next to Chinese they are layout."""
    return _SPACE_NEXT_TO_CJK.sub("", text)
