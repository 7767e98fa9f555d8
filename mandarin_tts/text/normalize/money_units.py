"""Money (¥/$/€/£, 元角分), percentages and measurement units after numbers."""

from __future__ import annotations

import re

from mandarin_tts.text.normalize.readings import read_cardinal, read_decimal, read_percent
from mandarin_tts.text.normalize.rules import Rule, rule

_NUMBER = r"\d+(?:\.\d+)?"
_CURRENCY_NAMES = {"$": "美元", "€": "欧元", "£": "英镑"}

# Units spoken after a number; longest spelling first so 'km/h' wins over 'km'.
# Case matters: 'm' is metres, 'M' is not a unit here. Data sizes (GB, MB) stay letters.
UNITS = {
    "km/h": "公里每小时",
    "m/s": "米每秒",
    "km²": "平方公里",
    "m²": "平方米",
    "cm²": "平方厘米",
    "m³": "立方米",
    "kWh": "千瓦时",
    "km": "公里",
    "kg": "公斤",
    "mg": "毫克",
    "cm": "厘米",
    "mm": "毫米",
    "ml": "毫升",
    "mL": "毫升",
    "kW": "千瓦",
    "Hz": "赫兹",
    "ms": "毫秒",
    "min": "分钟",
    "°C": "摄氏度",
    "°F": "华氏度",
    "°": "度",
    "m": "米",
    "g": "克",
    "L": "升",
    "W": "瓦",
    "h": "小时",
    "s": "秒",
}
_UNIT_PATTERN = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))


def read_yuan(amount: str) -> str:
    """'12.50' -> '十二元五角', '3.05' -> '三元零五分', '0.5' -> '五角', '2' -> '两元'."""
    whole, _, cents = amount.partition(".")
    cents = (cents + "00")[:2]
    jiao, fen = int(cents[0]), int(cents[1])
    parts = []
    if int(whole) or not (jiao or fen):
        parts.append(("两" if int(whole) == 2 else read_cardinal(whole)) + "元")
    if jiao:
        parts.append(read_cardinal(str(jiao)) + "角")
    if fen:
        parts.append(("零" if parts and not jiao else "") + read_cardinal(str(fen)) + "分")
    return "".join(parts)


@rule("negative_temperature", rf"(?<![\dA-Za-z.])-({_NUMBER})\s*°C")
def _negative_temperature(m: re.Match[str]) -> str:
    return f"零下{read_decimal(m.group(1))}摄氏度"


@rule("currency", rf"([¥$€£])\s?(\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|{_NUMBER})\s*([万亿千])?元?")
def _currency(m: re.Match[str]) -> str:
    symbol, amount, scale = m.group(1), m.group(2).replace(",", ""), m.group(3) or ""
    if symbol == "¥" and not scale and len(amount.partition(".")[2]) <= 2:
        return read_yuan(amount)
    return read_decimal(amount) + scale + _CURRENCY_NAMES.get(symbol, "元")


@rule("percent_range", rf"(?<![\d.])({_NUMBER})%?\s*[-~至到]\s*({_NUMBER})%")
def _percent_range(m: re.Match[str]) -> str:
    return f"{read_percent(m.group(1))}到{read_percent(m.group(2))}"


@rule("percent", rf"(?<![\dA-Za-z.])([-+]?{_NUMBER})%|(?<![\d.])({_NUMBER})%")
def _percent(m: re.Match[str]) -> str:
    return read_percent(m.group(1) or m.group(2))


@rule("permille", rf"(?<![\d.])({_NUMBER})‰")
def _permille(m: re.Match[str]) -> str:
    return f"千分之{read_decimal(m.group(1))}"


@rule("unit", rf"(?<=\d)\s?({_UNIT_PATTERN})(?![A-Za-z])")
def _unit(m: re.Match[str]) -> str:
    return UNITS[m.group(1)]


RULES: list[Rule] = [
    _negative_temperature,
    _currency,
    _percent_range,
    _percent,
    _permille,
    _unit,
]
