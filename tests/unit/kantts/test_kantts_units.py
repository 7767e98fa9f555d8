"""Text -> KAN-TTS units (the notation ttsfrd emits) and units -> ids."""

from __future__ import annotations

import numpy as np
import pytest

from mandarin_tts.kantts.errors import KanttsUnitsError
from mandarin_tts.kantts.tables import UnitTables
from mandarin_tts.kantts.units import (
    KanttsUnitsFrontend,
    Unit,
    encode_units,
    format_units,
    parse_units,
)
from mandarin_tts.text.frontend import TextFrontendError


def _short(units: list[Unit]) -> list[str]:
    """'sy/tone/flag/segment' per unit, without emotion and speaker."""
    return [f"{u.sy}/{u.tone}/{u.syllable_flag}/{u.word_segment}" for u in units]


def _phones(units: list[Unit]) -> list[str]:
    return [u.sy for u in units]


def test_two_syllable_word(units_frontend: KanttsUnitsFrontend) -> None:
    units = units_frontend.unit_list("你好")
    assert _short(units) == [
        "n_c/tone2/s_begin/word_begin",  # 你好: third-tone sandhi ni3 -> ni2
        "i_c/tone2/s_end/word_middle",
        "h_c/tone3/s_begin/word_middle",
        "ao_c/tone3/s_end/word_end",
        "#4/tone_none/s_none/word_none",
    ]
    assert {(u.emotion, u.speaker) for u in units} == {("emotion_neutral", "F7")}


def test_one_and_three_syllable_words(units_frontend: KanttsUnitsFrontend) -> None:
    units = units_frontend.unit_list("他喜欢图书馆")
    short = _short(units)
    assert short[:3] == ["t_c/tone1/s_begin/word_begin", "a_c/tone1/s_end/word_end",
                         "#1/tone_none/s_none/word_none"]  # fmt: skip
    assert _phones(units)[-7:-1] == ["t_c", "u_c", "sh_c", "u_c", "g_c", "uan_c"]
    assert [u.word_segment for u in units[-7:-1]] == [
        "word_begin", "word_middle", "word_middle", "word_middle", "word_middle", "word_end"
    ]  # fmt: skip


def test_text_string_notation(units_frontend: KanttsUnitsFrontend) -> None:
    text = units_frontend.units("好", speaker="M7", emotion="emotion_happy")
    assert text == (
        "{h_c$tone3$s_begin$word_begin$emotion_happy$M7} "
        "{ao_c$tone3$s_end$word_end$emotion_happy$M7} "
        "{#4$tone_none$s_none$word_none$emotion_happy$M7}"
    )
    assert format_units(parse_units(text)) == text


def test_polyphones_follow_the_word(units_frontend: KanttsUnitsFrontend) -> None:
    units = units_frontend.unit_list("我在银行工作，行长是张老师。")
    pairs = [(a.sy, a.tone) for a, b in zip(units, units[1:], strict=False) if a.sy == "h_c"]
    assert pairs[:2] == [("h_c", "tone2"), ("h_c", "tone2")]  # yin2 hang2, hang2 zhang3
    zh = [u for u in units if u.sy == "zh_c"]
    assert zh[0].tone == "tone3"  # 行长 zhang3 (not chang2)
    assert "ch_c" not in _phones(units)


def test_prosody_marks(units_frontend: KanttsUnitsFrontend) -> None:
    units = units_frontend.unit_list("，苹果、香蕉和梨，都很好吃！")
    marks = [u.sy for u in units if u.sy.startswith("#")]
    assert units[0].sy != "#3"  # a leading pause has nothing to separate
    assert marks[0] == "#2" and marks[-1] == "#4" and marks.count("#4") == 1
    assert "#3" in marks
    for unit in units:
        if unit.sy.startswith("#"):
            assert (unit.tone, unit.syllable_flag, unit.word_segment) == (
                "tone_none", "s_none", "word_none"
            )  # fmt: skip
    # every word is followed by exactly one mark: no two marks in a row
    assert all(
        not (a.sy[0] == "#" and b.sy[0] == "#") for a, b in zip(units, units[1:], strict=False)
    )


def test_erhua_uses_r_finals(units_frontend: KanttsUnitsFrontend) -> None:
    phones = _phones(units_frontend.unit_list("我们去公园玩儿，一会儿回来"))
    assert "anr_c" in phones and "ueir_c" in phones
    assert "er_c" not in phones  # 儿 is merged into the syllable, not read on its own


def test_letters_use_english_phones(units_frontend: KanttsUnitsFrontend) -> None:
    units = units_frontend.unit_list("GPU很快")
    assert _short(units)[:7] == [
        "jh/tone1/s_begin/word_begin",
        "iy/tone1/s_end/word_middle",
        "p/tone1/s_begin/word_middle",
        "iy/tone1/s_end/word_middle",
        "y/tone1/s_begin/word_middle",
        "uw/tone1/s_end/word_end",
        "#1/tone_none/s_none/word_none",
    ]
    ai = units_frontend.unit_list("AI")
    assert _short(ai) == ["ey/tone1/s_both/word_begin", "ay/tone1/s_both/word_end",
                          "#4/tone_none/s_none/word_none"]  # fmt: skip
    i = units_frontend.unit_list("I")
    assert _short(i)[0] == "ay/tone1/s_both/word_both"


def test_numbers_dates_and_symbols(units_frontend: KanttsUnitsFrontend) -> None:
    phones = _phones(units_frontend.unit_list("2024年3月5日气温-3.5℃"))
    # er4 ling2 er4 si4 nian2 san1 yve4 wu3 ri4 ... ling2 xia4 san1 dian3 wu3 ...
    assert phones[:4] == ["ge", "er_c", "l_c", "ing_c"]
    assert "y_c" in phones and "ve_c" in phones and "xx_c" in phones and "ia_c" in phones


def test_units_are_all_in_the_tables(
    units_frontend: KanttsUnitsFrontend, tables: UnitTables
) -> None:
    text = "今天是2024年3月5日，北京的天气很好、适合出游！你知道吗？Wi-Fi密码是ABC123。"
    encoded = units_frontend.encode(text, speaker="xiaoyu", emotion="emotion_sad")
    assert encoded.ling.dtype == np.int64 and encoded.ling.shape == (len(encoded), 4)
    assert len(encoded) == encoded.n_units + 1 == len(parse_units(encoded.units)) + 1
    assert set(encoded.emotion.tolist()) == {tables.index("emotion")["emotion_sad"], 34}
    assert set(encoded.speaker.tolist()) == {2, 4}  # xiaoyu, then the '~' row


def test_encode_ids(tables: UnitTables) -> None:
    text = (
        "{h_c$tone3$s_begin$word_begin$emotion_neutral$M7} "
        "{ao_c$tone3$s_end$word_end$emotion_neutral$M7} "
        "{#1$tone_none$s_none$word_none$emotion_neutral$M7}"
    )
    encoded = encode_units(text, tables)
    assert encoded.ling.tolist() == [[16, 4, 0, 0], [4, 4, 1, 1], [140, 1, 2, 4], [145, 8, 6, 6]]
    assert encoded.emotion.tolist() == [1, 1, 1, 34]
    assert encoded.speaker.tolist() == [1, 1, 1, 4]
    bare = encode_units(text, tables, append_eos=False)
    assert bare.ling.tolist() == encoded.ling.tolist()[:-1] and bare.n_units == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{h_c$tone3$s_begin$word_begin$emotion_neutral}", "has 5 fields"),
        ("h_c$tone3$s_begin$word_begin$emotion_neutral$F7", "braces"),
        ("{h_c$tone3$s_begin$$emotion_neutral$F7}", "fields"),
        ("   ", "no units"),
    ],
)
def test_parse_units_rejects(text: str, message: str) -> None:
    with pytest.raises(KanttsUnitsError, match=message):
        parse_units(text)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sy", "zz_c", "unknown sy 'zz_c'"),
        ("sy", "_", "unknown sy"),
        ("tone", "tone9", "unknown tone"),
        ("syllable_flag", "~", "unknown syllable_flag"),
        ("emotion", "emotion_bored", "valid: emotion_none, emotion_neutral"),
        ("speaker", "Nobody", r"valid: F7, M7, xiaoyu\)"),
    ],
)
def test_encode_rejects_unknown_symbols(
    tables: UnitTables, field: str, value: str, message: str
) -> None:
    fields = {"sy": "h_c", "tone": "tone3", "syllable_flag": "s_begin",
              "word_segment": "word_begin", "emotion": "emotion_neutral", "speaker": "F7"}  # fmt: skip
    fields[field] = value
    with pytest.raises(KanttsUnitsError, match=message):
        encode_units([Unit(**fields)], tables)


def test_unknown_speaker_and_emotion_list_valid_ones(units_frontend: KanttsUnitsFrontend) -> None:
    with pytest.raises(
        KanttsUnitsError, match="unknown speaker 'F8'; this voice has: F7, M7, xiaoyu"
    ):
        units_frontend.units("你好", speaker="F8")
    with pytest.raises(KanttsUnitsError, match="emotion_neutral, emotion_angry") as err:
        units_frontend.units("你好", emotion="neutral")
    assert "emotion_placeholder9" in str(err.value) and "'_'" not in str(err.value)
    with pytest.raises(KanttsUnitsError, match="unknown speaker"):
        units_frontend.units("你好", speaker="_")


@pytest.mark.parametrize("text", ["", "   ", "。。！", "😀😀", "x" * 201])
def test_bad_text(units_frontend: KanttsUnitsFrontend, text: str) -> None:
    with pytest.raises(TextFrontendError):
        units_frontend.units(text)


def test_default_speaker_is_the_first(units_frontend: KanttsUnitsFrontend) -> None:
    assert {u.speaker for u in units_frontend.unit_list("你好")} == {"F7"}
