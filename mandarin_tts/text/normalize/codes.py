"""Phone, ID and other code numbers: read digit by digit, with 1 spoken as 幺 (yao)."""

from __future__ import annotations

import re

from mandarin_tts.text.normalize.readings import read_digits
from mandarin_tts.text.normalize.rules import Rule, rule

# Words after which a digit string is a code, not a quantity ("房间号是301").
_CODE_CONTEXT = (
    "电话|号码|手机|热线|编号|密码|账号|帐号|卡号|尾号|验证码|工号|学号|邮编|房间|车次|航班|"
    "单号|QQ|微信|分机|座机|车牌|序列号"
)


def _code(match: re.Match[str]) -> str:
    return read_digits(match.group(0), one_as_yao=True)


@rule("id_card", r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
def _id_card(m: re.Match[str]) -> str:
    return _code(m)


@rule("mobile", r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
def _mobile(m: re.Match[str]) -> str:
    return _code(m)


@rule("landline", r"(?<!\d)(?:0\d{2,3}-\d{7,8}|[48]00-?\d{3}-?\d{4})(?!\d)")
def _landline(m: re.Match[str]) -> str:
    return _code(m)


@rule("code_after_keyword", rf"({_CODE_CONTEXT})([^\d，。,.!?;\s]{{0,3}}\s?)(\d[\d-]*\d)")
def _code_after_keyword(m: re.Match[str]) -> str:
    return m.group(1) + m.group(2) + read_digits(m.group(3), one_as_yao=True)


RULES: list[Rule] = [_id_card, _mobile, _landline, _code_after_keyword]
