"""Letters and punctuation after the number rules: canonical Chinese punctuation."""

from __future__ import annotations

import re

# Every pause-bearing mark becomes one of these; prosody.py maps them to boundary levels.
SENTENCE_END = "。！？"
CLAUSE = "，；："
ENUMERATION = "、"
PAUSE_PUNCTUATION = SENTENCE_END + CLAUSE + ENUMERATION

_TO_CHINESE = {
    ",": "，", ".": "。", "!": "！", "?": "？", ";": "；", ":": "：",
    "—": "，", "~": "，", "…": "，", "/": "、", "-": "，", "|": "，",
    "&": "和", "+": "加", "=": "等于", "<": "小于", ">": "大于", "×": "乘", "÷": "除以",
}  # fmt: skip
_TABLE = str.maketrans(_TO_CHINESE)
_PAUSE_RUN = re.compile(rf"[{PAUSE_PUNCTUATION}]{{2,}}")
# Anything else that is not Chinese, a Latin letter, a space or a pause mark is dropped
# (quotes, brackets, leftover symbols such as % or ° without a number).
_DROP = re.compile(rf"[^\u3400-\u4dbf\u4e00-\u9fffA-Za-z {PAUSE_PUNCTUATION}]")


def _strongest(run: re.Match[str]) -> str:
    marks = run.group(0)
    for group in (SENTENCE_END, CLAUSE, ENUMERATION):
        found = [c for c in marks if c in group]
        if found:
            return found[-1]
    return marks[-1]


# Inside addresses (www.example.com, a@b.cn) a dot is said 点 and @ is said 艾特.
_ADDRESS_DOT = re.compile(r"(?<=[A-Za-z0-9])\.(?=[A-Za-z])")
_ADDRESS_AT = re.compile(r"(?<=[A-Za-z0-9])@(?=[A-Za-z0-9])")


def spoken_address_symbols(text: str) -> str:
    return _ADDRESS_AT.sub("艾特", _ADDRESS_DOT.sub("点", text))


def canonical_punctuation(text: str, at_start: bool = True) -> str:
    """`at_start`: the text begins the sentence (a leading pause mark separates nothing)."""
    text = text.translate(_TABLE)
    text = _DROP.sub(" ", text)
    text = re.sub(r"\s*([" + PAUSE_PUNCTUATION + r"])\s*", r"\1", text)
    text = _PAUSE_RUN.sub(_strongest, text)
    return text.lstrip(PAUSE_PUNCTUATION + " ") if at_start else text


def uppercase_letters(text: str) -> str:
    """Latin letters are spelled letter by letter (the voice has no English phones)."""
    return text.upper() if text.isascii() else re.sub(r"[a-z]+", lambda m: m.group(0).upper(), text)
