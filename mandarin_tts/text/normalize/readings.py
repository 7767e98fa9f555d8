"""How digit strings are read aloud: cardinals, digit by digit, decimals, fractions."""

from __future__ import annotations

import cn2an

DIGITS = "零一二三四五六七八九"
CHINESE_NUMERALS = frozenset("零一二三四五六七八九十百千万亿两幺点")

# Longer digit strings are codes, not quantities: read them digit by digit.
MAX_CARDINAL_DIGITS = 12


def read_digits(digits: str, one_as_yao: bool = False) -> str:
    """'2015' -> '二零一五'; phone/ID style with one_as_yao: '110' -> '幺幺零'."""
    out = []
    for char in digits:
        if char.isdigit():
            out.append("幺" if one_as_yao and char == "1" else DIGITS[int(char)])
        elif char in "Xx":
            out.append("X")
    return "".join(out)


def read_cardinal(digits: str) -> str:
    """'1005' -> '一千零五', '2000' -> '两千'. Leading zeros and over-long strings: by digit."""
    digits = digits.replace(",", "")
    if not digits.isdigit():
        raise ValueError(f"not an integer: {digits!r}")
    if len(digits) > MAX_CARDINAL_DIGITS or (len(digits) > 1 and digits.startswith("0")):
        return read_digits(digits)
    text = str(cn2an.an2cn(digits))
    # A leading 2 before 千/万/亿 is spoken 两 (两千, 两万); 二百 and 两百 are both fine.
    if text[:2] in ("二千", "二万", "二亿"):
        text = "两" + text[1:]
    return text


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
