"""Plain numbers: arithmetic, ranges, scores, ordinals, fractions, negatives, decimals."""

from __future__ import annotations

import re

from mandarin_tts.text.normalize.readings import (
    read_cardinal,
    read_code,
    read_decimal,
    read_fraction,
)
from mandarin_tts.text.normalize.rules import Rule, rule

_NUMBER = r"\d+(?:\.\d+)?"
_OPERATORS = {"+": "加", "×": "乘", "÷": "除以", "=": "等于"}

# A bare 2 before these measure words / magnitudes is spoken 两 (两个, 两公里, 两万).
_LIANG_BEFORE = (
    "个位名只条件张辆台种本次天年周岁小点元块角毛公千斤克米头匹架把双对瓶杯碗份家所口万亿百"
    "分钟秒页篇首部棵朵座门节届批份倍项套"
)

_LIANG_NEXT = re.compile(rf"(?!\s?年级)\s?[{_LIANG_BEFORE}]")


@rule("grouped_thousands", r"(?<![\d,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])")
def _grouped_thousands(m: re.Match[str]) -> str:
    return m.group(0).replace(",", "")


@rule("arithmetic", r"(?<=\d)\s*([+×÷=])\s*(?=[\d-])")
def _arithmetic(m: re.Match[str]) -> str:
    return _OPERATORS[m.group(1)]


@rule("letter_number_hyphen", r"(?<=[A-Za-z])-(?=\d)")
def _letter_number_hyphen(m: re.Match[str]) -> str:
    return " "  # COVID-19, Wi-Fi 6: the hyphen is not a minus sign


def _is_ip_address(parts: list[str]) -> bool:
    return len(parts) == 4 and all(len(p) <= 3 and int(p) <= 255 for p in parts)


@rule("dotted_number", r"(?<![\d.])\d+(?:\.\d+){2,}(?!\d|\.\d)")
def _dotted_number(m: re.Match[str]) -> str:
    """Versions (2.1.3 -> 二点一点三) and IP addresses (192.168.1.1, digit by digit)."""
    parts = m.group(0).split(".")
    if _is_ip_address(parts):
        return "点".join(read_code(p) for p in parts)
    return "点".join(read_cardinal(p) for p in parts)


@rule("version", r"(?<=[vV])\s?(\d+)\.(\d+)(?!\d|\.\d)")
def _version(m: re.Match[str]) -> str:
    return f"{read_cardinal(m.group(1))}点{read_cardinal(m.group(2))}"  # v2.10: 二点十


@rule("range", rf"(?<![\d.])({_NUMBER})\s*[-~]\s*({_NUMBER})(?![\d.])")
def _range(m: re.Match[str]) -> str:
    upper = read_decimal(m.group(2))
    if m.group(2) == "2" and _LIANG_NEXT.match(m.string, m.end()):
        upper = "两"  # 1-2个 -> 一到两个
    return f"{read_decimal(m.group(1))}到{upper}"


@rule("score_ratio", r"(?<![\d.])(\d+)\s*:\s*(\d+)(?![\d.])")
def _score_ratio(m: re.Match[str]) -> str:
    left, right = (read_cardinal(str(int(g))) for g in m.groups())
    return f"{left}比{right}"


@rule("ordinal", r"第\s*(\d+)")
def _ordinal(m: re.Match[str]) -> str:
    return "第" + read_cardinal(m.group(1))


@rule("fraction", r"(?<![\d/.])(\d+)/(\d+)(?![\d/])")
def _fraction(m: re.Match[str]) -> str:
    return read_fraction(m.group(1), m.group(2))


@rule("negative", rf"(?<![\dA-Za-z.])-({_NUMBER})")
def _negative(m: re.Match[str]) -> str:
    return read_decimal("-" + m.group(1))


@rule("decimal", r"(?<![\d.])\d+\.\d+")
def _decimal(m: re.Match[str]) -> str:
    return read_decimal(m.group(0))


@rule("liang", rf"(?<![\d.])2(?={_LIANG_NEXT.pattern})")
def _liang(m: re.Match[str]) -> str:
    return "两"


@rule("cardinal", r"\d+")
def _cardinal(m: re.Match[str]) -> str:
    return read_cardinal(m.group(0))


RULES: list[Rule] = [
    _grouped_thousands,
    _arithmetic,
    _letter_number_hyphen,
    _dotted_number,
    _version,
    _range,
    _score_ratio,
    _ordinal,
    _fraction,
    _negative,
    _decimal,
    _liang,
    _cardinal,
]
