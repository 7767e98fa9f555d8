"""Pinyin syllables and letters -> KAN-TTS phones (py2phoneMap.txt and the phone set)."""

from __future__ import annotations

import re

import pytest

from mandarin_tts.kantts.errors import KanttsUnitsError
from mandarin_tts.kantts.phones import letter_syllables, py2phone, respell_umlaut, syllable_phones
from mandarin_tts.kantts.tables import pinyin_phones


def test_every_map_entry_round_trips() -> None:
    table = py2phone()
    assert len(table) == 661
    for base, phones in table.items():
        assert syllable_phones(f"{base}3").phones == phones, base


@pytest.mark.parametrize(
    ("syllable", "phones", "tone"),
    [
        ("hao3", ("h_c", "ao_c"), "tone3"),
        ("a1", ("ga", "a_c"), "tone1"),
        ("e4", ("ge", "e_c"), "tone4"),
        ("ou1", ("go", "ou_c"), "tone1"),
        ("er2", ("ge", "er_c"), "tone2"),
        ("yi1", ("y_c", "i_c"), "tone1"),
        ("wo3", ("w_c", "o_c"), "tone3"),
        ("xi1", ("xx_c", "i_c"), "tone1"),
        ("zhi1", ("zh_c", "ih_c"), "tone1"),
        ("ri4", ("r_c", "ih_c"), "tone4"),
        ("zi5", ("z_c", "ii_c"), "tone5"),
        ("si4", ("s_c", "ii_c"), "tone4"),
        ("ju4", ("j_c", "v_c"), "tone4"),  # pypinyin's 'u' after j/q/x/y is u-umlaut
        ("quan2", ("q_c", "van_c"), "tone2"),
        ("xue2", ("xx_c", "ve_c"), "tone2"),
        ("yun2", ("y_c", "vn_c"), "tone2"),
        ("yuan2", ("y_c", "van_c"), "tone2"),
        ("lv4", ("l_c", "v_c"), "tone4"),
        ("nve4", ("n_c", "ve_c"), "tone4"),
        ("lue4", ("l_c", "ve_c"), "tone4"),
        ("huar1", ("h_c", "uar_c"), "tone1"),  # erhua listed in the map
        ("wanr2", ("w_c", "anr_c"), "tone2"),
        ("ar4", ("ga", "ar_c"), "tone4"),  # erhua not listed: the final's r-phone
        ("kuar4", ("k_c", "uar_c"), "tone4"),
        ("ng2", ("ge", "en_c"), "tone2"),  # KAN-TTS reads 'ng' as 'en'
        ("m2", ("m_c", "u_c"), "tone2"),
        ("fiao4", ("f_c", "iao_c"), "tone4"),  # not in the map: initial + final
        ("qqq1", ("ge", "e_c"), "tone1"),  # unknown: a neutral schwa
    ],
)
def test_syllables(syllable: str, phones: tuple[str, ...], tone: str) -> None:
    result = syllable_phones(syllable)
    assert (result.phones, result.tone) == (phones, tone)


@pytest.mark.parametrize("bad", ["hao", "hao6", "Hao3", "", "ha o3"])
def test_bad_syllables(bad: str) -> None:
    with pytest.raises(KanttsUnitsError, match="toned pinyin"):
        syllable_phones(bad)


def test_respell_umlaut() -> None:
    assert [respell_umlaut(s) for s in ("ju", "qun", "xu", "yue", "nue", "lu", "zhu", "wu")] == [
        "jv", "qvn", "xv", "yve", "nve", "lu", "zhu", "wu"
    ]  # fmt: skip


def test_all_pypinyin_readings_map_into_the_phone_set() -> None:
    """Every reading pypinyin knows (TONE3, neutral tone 5) gives phones of the phone set,
    and none needs the neutral fallback."""
    from pypinyin.constants import PINYIN_DICT
    from pypinyin.style import convert

    phones = set(pinyin_phones())
    fallback = []
    seen: set[str] = set()
    for readings in PINYIN_DICT.values():
        for reading in readings.split(","):
            syllable = convert(reading, style=8, strict=True, neutral_tone_with_five=True)
            if not re.fullmatch(r"[a-z]+[1-5]", syllable) or syllable in seen:
                continue
            seen.add(syllable)
            result = syllable_phones(syllable)
            assert set(result.phones) <= phones, syllable
            if result.phones == ("ge", "e_c") and not syllable.startswith("e"):
                fallback.append(syllable)
    assert len(seen) > 1200
    assert fallback == []


def test_letters_use_english_phones() -> None:
    gpu = letter_syllables("GPU")
    assert [s.phones for s in gpu] == [("jh", "iy"), ("p", "iy"), ("y", "uw")]
    assert {s.tone for s in gpu} == {"tone1"}
    w = letter_syllables("w")
    assert [s.phones for s in w] == [("d", "ah"), ("b", "ah", "l"), ("y", "uw")]
    assert [s.tone for s in w] == ["tone1", "tone0", "tone0"]
    phones = set(pinyin_phones())
    for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        syllables = letter_syllables(char)
        assert syllables and all(set(s.phones) <= phones for s in syllables), char
    assert letter_syllables("1-") == []
