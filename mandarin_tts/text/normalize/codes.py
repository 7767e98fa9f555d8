"""Phone, ID and other code numbers: read digit by digit, with 1 spoken as 幺 (yao), in the
groups people say them in (139、1234、5678), with a short pause between groups."""

from __future__ import annotations

import re

from mandarin_tts.text.normalize.readings import GROUP_PAUSE, read_code
from mandarin_tts.text.normalize.rules import Rule, rule

# Words after which a digit string is a code, not a quantity ("房间号是301").
_CODE_CONTEXT = (
    "电话|号码|手机|热线|编号|密码|账号|帐号|卡号|尾号|验证码|校验码|动态码|取件码|取餐码|"
    "提货码|邀请码|工号|学号|邮编|房间|房号|门牌|车次|航班|单号|QQ|微信|分机|座机|车牌|序列号|"
    "传真|身份证"
)
# Verbs after which a number right away is one to dial ("请拨打12345"; not "拨打了12次").
_DIAL_VERBS = "拨打|致电|呼叫|拨"
# Digits followed by these are a room (301室), not a quantity.
_ROOM_AFTER = r"室|号房|房间|房(?![子价产租东屋])"
# Service numbers said digit by digit even without a keyword (10086, 12306, 95588).
_SERVICE_NUMBER = r"100(?:86|10)|123(?:06|15)|12121|95\d{3}"
_NOT_A_QUANTITY_AFTER = r"(?![\d.,万亿千百元块个人年%])"


def _split_written_groups(text: str) -> list[str]:
    """'139-1234 5678' -> ['139', '1234', '5678']: the writer's own grouping."""
    return [g for g in re.split(r"[\s-]+", text) if g]


@rule("id_card", r"(?<![\dA-Za-z])(\d{6})(\d{4})(\d{4})(\d{3}[\dXx])(?![\dA-Za-z])")
def _id_card(m: re.Match[str]) -> str:
    return read_code(m.group(0), list(m.groups()))  # region, year, month-day, sequence


@rule("mobile", r"(?<!\d)(\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
def _mobile(m: re.Match[str]) -> str:
    prefix = read_code("86") + GROUP_PAUSE if m.group(1) else ""
    return prefix + read_code(m.group(0), [m.group(2), m.group(3), m.group(4)])


@rule(
    "landline",
    r"(?<!\d)(?:\(?(0\d{2,3})\)?[\s-]?(\d{7,8})(?!\d)|([48]00)[\s-]?(\d{3})[\s-]?(\d{4})(?!\d))",
)
def _landline(m: re.Match[str]) -> str:
    if m.group(1):
        area, local = m.group(1), m.group(2)
        local_groups = [local[:4], local[4:]] if len(local) == 8 else [local[:3], local[3:]]
        return read_code(m.group(0), [area, *local_groups])
    return read_code(m.group(0), [m.group(3), m.group(4), m.group(5)])  # 400-800-1234


@rule("service_number", rf"(?<![\d.])(?:{_SERVICE_NUMBER}){_NOT_A_QUANTITY_AFTER}")
def _service_number(m: re.Match[str]) -> str:
    return read_code(m.group(0))


@rule("code_after_keyword", rf"({_CODE_CONTEXT})([^\d，。,.!?;\s]{{0,3}}\s?)(\d[\d\s-]*\d)")
def _code_after_keyword(m: re.Match[str]) -> str:
    return m.group(1) + m.group(2) + read_code(m.group(3), _split_written_groups(m.group(3)))


@rule("dialled_number", rf"({_DIAL_VERBS})(\s?)(\d[\d\s-]*\d)")
def _dialled_number(m: re.Match[str]) -> str:
    return m.group(1) + read_code(m.group(3), _split_written_groups(m.group(3)))


@rule("room_number", rf"(?<![\d.])(\d{{3,5}})(?=\s?(?:{_ROOM_AFTER}))")
def _room_number(m: re.Match[str]) -> str:
    return read_code(m.group(1))


# Flight, train, model and standard numbers: CA1234, G1234, A380, RTX4090, GB2312. Two
# digits stay a cardinal (G20 is 'G er shi'); a decimal is no code (PM2.5).
@rule("letters_then_digits", r"(?<![A-Za-z\d])([A-Z]{1,3})(\d{3,6})(?![\d.])")
def _letters_then_digits(m: re.Match[str]) -> str:
    return m.group(1) + read_code(m.group(2))


RULES: list[Rule] = [
    _id_card,
    _mobile,
    _landline,
    _service_number,
    _code_after_keyword,
    _dialled_number,
    _room_number,
    _letters_then_digits,
]
