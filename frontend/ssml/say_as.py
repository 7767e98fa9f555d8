"""`say-as` readings: the Chinese text a listener should hear, built with the normalizer's own
number readings (mandarin_tts/text/normalize/readings.py and friends)."""

from __future__ import annotations

import re
from collections.abc import Callable

from frontend.errors import InvalidSsml
from mandarin_tts.text.normalize.dates_times import read_hour
from mandarin_tts.text.normalize.money_units import read_yuan
from mandarin_tts.text.normalize.readings import (
    DIGITS,
    read_cardinal,
    read_decimal,
    read_digits,
)

# Most digits one say-as may read (longer values are codes: use digits or telephone).
MAX_DIGITS = 64
_NUMBER_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_CURRENCY_NAMES = {
    "¥": "元", "￥": "元", "元": "元", "rmb": "元", "cny": "元",
    "$": "美元", "usd": "美元", "美元": "美元",
    "€": "欧元", "eur": "欧元", "欧元": "欧元",
    "£": "英镑", "gbp": "英镑", "英镑": "英镑",
    "hk$": "港元", "hkd": "港元", "港元": "港元",
    "jpy": "日元", "日元": "日元",
}  # fmt: skip
_CURRENCY_RE = re.compile(
    r"^(?P<pre>hk\$|[¥￥$€£]|rmb|cny|usd|eur|gbp|hkd|jpy)?\s*"
    r"(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*"
    r"(?P<post>元|美元|欧元|英镑|港元|日元|rmb|cny|usd|eur|gbp|hkd|jpy)?$"
)
_TIME_RE = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$")
DATE_FORMATS = ("ymd", "ydm", "mdy", "dmy", "md", "dm", "ym", "my", "y", "m", "d")


def _fail(where: str, kind: str, text: str, expected: str) -> InvalidSsml:
    return InvalidSsml(
        f"{where}: interpret-as={kind!r} cannot read {text[:40]!r}; expected {expected}"
    )


def _cardinal(text: str, where: str) -> str:
    value = text.strip()
    if not _NUMBER_RE.match(value) or len(value) > MAX_DIGITS:
        raise _fail(where, "cardinal", text, "a number such as 1234, -5 or 3.14")
    return read_decimal(value.replace(",", "").lstrip("+"))


def _ordinal(text: str, where: str) -> str:
    value = text.strip().removeprefix("第")
    if not value.isascii() or not value.isdigit() or len(value) > MAX_DIGITS:
        raise _fail(where, "ordinal", text, "a whole number such as 3")
    return "第" + read_cardinal(str(int(value)))


def _digits(text: str, where: str, one_as_yao: bool = False) -> str:
    value = text.strip()
    groups = [g for g in re.split(r"[\s\-().+/]+", value) if g]
    digit_count = sum(len(g) for g in groups)
    if (
        not groups
        or not all(g.isascii() and g.isdigit() for g in groups)
        or digit_count > MAX_DIGITS
    ):
        kind = "telephone" if one_as_yao else "digits"
        raise _fail(where, kind, text, "digits, optionally grouped by spaces, '-' or '()'")
    # Groups are read with a short break between them, as people read numbers out.
    return "、".join(read_digits(g, one_as_yao=one_as_yao) for g in groups)


def _telephone(text: str, where: str) -> str:
    return _digits(text, where, one_as_yao=True)


def _part(kind: str, value: str) -> str:
    if kind == "y":
        return read_digits(value) + "年"
    return read_cardinal(str(int(value))) + ("月" if kind == "m" else "日")


def date_reading(text: str, fmt: str | None, where: str) -> str:
    value = text.strip()
    groups = re.findall(r"\d+", value)
    if not groups or not re.fullmatch(r"[\d\s\-/.年月日号]+", value):
        raise _fail(where, "date", text, "a date such as 2024-03-05 or 3/5")
    if fmt is None:
        fmt = {3: "ymd", 2: "md", 1: "y" if len(groups[0]) == 4 else "d"}.get(len(groups), "")
        if len(groups) == 3 and len(groups[0]) != 4 and len(groups[-1]) == 4:
            raise InvalidSsml(
                f"{where}: {value[:40]!r} is ambiguous; give format='mdy' or format='dmy'"
            )
    fmt = fmt.strip().lower()
    if fmt not in DATE_FORMATS:
        raise InvalidSsml(f"{where}: format={fmt[:20]!r} is not one of {', '.join(DATE_FORMATS)}")
    if len(groups) != len(fmt):
        raise _fail(where, "date", text, f"{len(fmt)} number(s) for format {fmt!r}")
    parts = dict(zip(fmt, groups, strict=True))
    if "m" in parts and not 1 <= int(parts["m"]) <= 12:
        raise InvalidSsml(f"{where}: month {parts['m']} is not 1..12")
    if "d" in parts and not 1 <= int(parts["d"]) <= 31:
        raise InvalidSsml(f"{where}: day {parts['d']} is not 1..31")
    if "y" in parts and len(parts["y"]) > 4:
        raise InvalidSsml(f"{where}: year {parts['y'][:10]} has more than 4 digits")
    return "".join(_part(k, parts[k]) for k in "ymd" if k in parts)


def _time(text: str, where: str) -> str:
    match = _TIME_RE.match(text.strip().lower())
    if match is None:
        raise _fail(where, "time", text, "a clock time such as 9:30, 21:05:10 or 3:30pm")
    hour, minute, second, half = match.groups()
    h, m, s = int(hour), int(minute), int(second or 0)
    if h > 24 or m > 59 or s > 59 or (half and not 1 <= h <= 12):
        raise _fail(where, "time", text, "hours 0..24 (1..12 with am/pm), minutes 0..59")
    prefix = ""
    if half:
        prefix = "上午" if half.startswith("a") else "下午"
    out = prefix + read_hour(str(h)) + "点"
    if m or second:
        out += ("零" if m < 10 else "") + read_cardinal(str(m)) + "分"
    if second:
        out += read_cardinal(str(s)) + "秒"
    return out


def _currency(text: str, where: str) -> str:
    match = _CURRENCY_RE.match(text.strip().lower())
    if match is None or (match.group("pre") and match.group("post")):
        raise _fail(where, "currency", text, "an amount such as ¥12.50, $3, 5 EUR or 100元")
    unit = _CURRENCY_NAMES[match.group("pre") or match.group("post") or "元"]
    amount = match.group("amount").replace(",", "")
    if len(amount) > MAX_DIGITS:
        raise _fail(where, "currency", text, f"at most {MAX_DIGITS} digits")
    if unit == "元":
        return read_yuan(amount)
    return read_decimal(amount) + unit


def _characters(text: str, where: str) -> str:
    """One by one: letters spelled, digits as 零..九, Chinese characters as they are."""
    out = []
    for char in text:
        if char.isascii() and char.isdigit():
            out.append(DIGITS[int(char)])
        elif char.isascii() and char.isalpha():
            out.append(f" {char.upper()} ")
        elif not char.isspace():
            out.append(char)
    if not out:
        raise _fail(where, "characters", text, "some characters")
    return "".join(out)


READERS: dict[str, Callable[[str, str], str]] = {
    "cardinal": _cardinal,
    "number": _cardinal,
    "ordinal": _ordinal,
    "digits": _digits,
    "telephone": _telephone,
    "time": _time,
    "currency": _currency,
    "characters": _characters,
    "spell-out": _characters,
}
INTERPRET_AS = (*READERS, "date")


def say_as(kind: str, text: str, fmt: str | None, where: str) -> str:
    key = kind.strip().lower()
    if key == "date":
        return date_reading(text, fmt, where)
    reader = READERS.get(key)
    if reader is None:
        raise InvalidSsml(
            f"{where}: interpret-as={kind[:30]!r} is not supported; use one of "
            f"{', '.join(INTERPRET_AS)}"
        )
    return reader(text, where)
