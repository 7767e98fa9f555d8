"""Calibration sentences for the int8 vocoder: a fixed, committed list.

Written for this purpose and kept disjoint from the evaluation sentences (the
intelligibility benchmark scores the quantized vocoder on those, so they must stay held
out; a unit test checks it). They mix statements, questions, numbers, dates and long and
short clauses so that the calibration mels cover the range real requests produce.
"""

from __future__ import annotations

CALIBRATION_SENTENCES: tuple[str, ...] = (
    "早上好，欢迎收听今天的新闻摘要。",
    "请把窗户关上，外面的风太大了。",
    "您的快递已经放在小区门口的快递柜里。",
    "本次航班预计晚点四十分钟，请耐心等候。",
    "这座桥修建于1958年，至今仍在使用。",
    "妈妈做的红烧肉又香又嫩。",
    "请问最近的地铁站怎么走？",
    "孩子们在操场上踢足球，笑声不断。",
    "您本月的话费余额为36.8元。",
    "秋天到了，树叶一片一片地落下来。",
    "下一站是人民广场，需要换乘的乘客请准备下车。",
    "他每天坚持跑步五公里，身体越来越好。",
    "这款手机支持快速充电和无线充电。",
    "音乐会将在十月二十日晚上七点半开始。",
    "谢谢你的帮助，我真的非常感激！",
    "雪山脚下有一个安静的小村庄。",
)
