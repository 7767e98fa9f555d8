"""Years (digit by digit), full dates and clock times."""

from __future__ import annotations

import re

from mandarin_tts.text.normalize.readings import read_cardinal, read_digits
from mandarin_tts.text.normalize.rules import Rule, rule, text_before

# A "3:20" after these words is a score or ratio, not a time.
_SCORE_CONTEXT = ("比分", "比例", "比赛", "以", "战胜", "击败", "负于", "赢", "输")


def _valid_date(month: str, day: str) -> bool:
    return 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def read_hour(hour: str) -> str:
    """Clock hours: 2 o'clock is 两点."""
    return "两" if int(hour) == 2 else read_cardinal(str(int(hour)))


@rule("year_range", r"(?<!\d)(\d{4})\s*[-~至到]\s*(\d{4})年")
def _year_range(m: re.Match[str]) -> str:
    return f"{read_digits(m.group(1))}到{read_digits(m.group(2))}年"


@rule("numeric_date", r"(?<![\d.])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d.])")
def _numeric_date(m: re.Match[str]) -> str:
    year, _, month, day = m.groups()
    if not _valid_date(month, day):
        return m.group(0)
    return (
        f"{read_digits(year)}年{read_cardinal(str(int(month)))}月{read_cardinal(str(int(day)))}日"
    )


@rule("year", r"(?<!\d)(\d{4}|\d{2}(?=年\d{1,2}月))年")
def _year(m: re.Match[str]) -> str:
    return f"{read_digits(m.group(1))}年"


@rule("month_day", r"(?<!\d)(\d{1,2})月(\d{1,2})([日号])")
def _month_day(m: re.Match[str]) -> str:
    month, day, suffix = m.groups()
    if not _valid_date(month, day):
        return m.group(0)
    return f"{read_cardinal(str(int(month)))}月{read_cardinal(str(int(day)))}{suffix}"


@rule("clock_time", r"(?<![\d.:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])")
def _clock_time(m: re.Match[str]) -> str:
    hour, minute, second = m.group(1), m.group(2), m.group(3)
    is_score = any(text_before(m, 3).endswith(w) for w in _SCORE_CONTEXT)
    if is_score or int(hour) > 24 or int(minute) > 59 or (second and int(second) > 59):
        return m.group(0)  # left for the ratio/score rule
    text = read_hour(hour) + "点"
    if int(minute) or second:
        text += (
            (read_digits(minute[0]) if minute[0] == "0" else "")
            + read_cardinal(str(int(minute)))
            + "分"
        )
    if second:
        text += (read_digits(second[0]) if second[0] == "0" and int(second) else "") + (
            read_cardinal(str(int(second))) + "秒"
        )
    return text


@rule(
    "time_range", r"(点(?:[零一二三四五六七八九十]+分)?)\s*[-~]\s*(?=[零一二三四五六七八九十两]+点)"
)
def _time_range(m: re.Match[str]) -> str:
    return m.group(1) + "到"  # 12:30-13:45 -> 十二点三十分到十三点四十五分


RULES: list[Rule] = [_year_range, _numeric_date, _year, _month_day, _clock_time, _time_range]
