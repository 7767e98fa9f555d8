"""How digit strings are read aloud: cardinals, digit by digit, decimals, fractions."""

from __future__ import annotations

import re
from collections.abc import Sequence

import cn2an

DIGITS = "零一二三四五六七八九"
CHINESE_NUMERALS = frozenset("零一二三四五六七八九十百千万亿两幺点")

# Longer digit strings are codes, not quantities: read them digit by digit.
MAX_CARDINAL_DIGITS = 12

# Between digit groups of a code: the enumeration comma, which the G2P turns into the
# prosody break #2 (a short phrase pause), the way people read 139、1234、5678.
GROUP_PAUSE = "、"
# Codes up to this many digits are read in one breath (verification codes, extensions).
ONE_GROUP_MAX = 5
# Natural groupings by length: 6 = 3-3, 7 = 3-4, ..., 11 = 3-4-4 (a mobile number).
_GROUPINGS = {6: (3, 3), 7: (3, 4), 8: (4, 4), 9: (3, 3, 3), 10: (3, 3, 4), 11: (3, 4, 4)}


_LIANG_SECTION = re.compile(r"(?:^|(?<=[万亿]))二(?=[千万亿])")


def read_digits(digits: str, one_as_yao: bool = False) -> str:
    """'2015' -> '二零一五'; phone/ID style with one_as_yao: '110' -> '幺幺零'."""
    out = []
    for char in digits:
        if char.isdigit():
            out.append("幺" if one_as_yao and char == "1" else DIGITS[int(char)])
        elif char in "Xx":
            out.append("X")
    return "".join(out)


def digit_groups(digits: str) -> list[str]:
    """'13912345678' -> ['139', '1234', '5678']; longer runs in fours (never a lone digit)."""
    n = len(digits)
    if n <= ONE_GROUP_MAX:
        return [digits] if digits else []
    sizes: Sequence[int] = _GROUPINGS.get(n) or _fours(n)
    out, start = [], 0
    for size in sizes:
        out.append(digits[start : start + size])
        start += size
    return out


def _fours(n: int) -> list[int]:
    sizes = [4] * (n // 4)
    rest = n % 4
    if rest == 1:
        sizes[-1:] = [3, 2]  # ...4, 3, 2 rather than a lone last digit
    elif rest:
        sizes.append(rest)
    return sizes


def read_code(digits: str, groups: Sequence[str] | None = None) -> str:
    """A code or phone number: digit by digit, 1 as 幺, in groups with short pauses.

    `groups` keeps the grouping the writer chose (139-1234-5678); groups that are still
    long are regrouped."""
    parts = [g for g in (groups if groups is not None else [digits]) if g]
    spoken = [read_digits(piece, one_as_yao=True) for part in parts for piece in digit_groups(part)]
    return GROUP_PAUSE.join(s for s in spoken if s)


def read_cardinal(digits: str) -> str:
    """'1005' -> '一千零五', '2000' -> '两千'. Leading zeros and over-long strings: by digit."""
    digits = digits.replace(",", "")
    if not digits.isdigit():
        raise ValueError(f"not an integer: {digits!r}")
    if len(digits) > MAX_CARDINAL_DIGITS or (len(digits) > 1 and digits.startswith("0")):
        return read_code(digits)  # a code (007, an account number), not a quantity
    text = str(cn2an.an2cn(digits))
    # A 2 that starts a 万/亿 section before 千/万/亿 is spoken 两 (两千, 一万两千, 一亿两千万);
    # 二百 and 两百 are both fine, and 十二万 keeps its 二.
    return _LIANG_SECTION.sub("两", text)


def read_decimal(number: str) -> str:
    """'128.5' -> '一百二十八点五', '0.05' -> '零点零五', '-3.2' -> '负三点二'."""
    sign = "负" if number.startswith("-") else ""
    number = number.lstrip("+-")
    whole, _, fraction = number.partition(".")
    text = read_cardinal(whole or "0")
    if fraction:
        text += "点" + read_digits(fraction)
    return sign + text


def read_fraction(numerator: str, denominator: str) -> str:
    """'3', '4' -> '四分之三'."""
    return f"{read_decimal(denominator)}分之{read_decimal(numerator)}"


def read_percent(number: str) -> str:
    """'12.5' -> '百分之十二点五', '-3' -> '负百分之三'."""
    sign = "负" if number.startswith("-") else ""
    return f"{sign}百分之{read_decimal(number.lstrip('+-'))}"
