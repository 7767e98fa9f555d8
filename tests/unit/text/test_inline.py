"""Inline pronunciation spans: both text frontends send exactly the span's syllables."""

from __future__ import annotations

import pytest

from mandarin_tts.kantts.tables import UnitTables
from mandarin_tts.kantts.units import KanttsUnitsFrontend
from mandarin_tts.text import TextFrontend, TextFrontendError
from mandarin_tts.text.inline import (
    CLOSE,
    MAX_SPAN_CHARS,
    OPEN,
    SEP,
    InlineMarkupError,
    Span,
    mark,
    normalize_syllable,
    split_inline,
    strip_markup,
    visible_text,
)


def span(chars: str, pinyin: str) -> str:
    return f"{OPEN}{chars}{SEP}{pinyin}{CLOSE}"


def test_a_span_changes_the_symbols_sent_to_the_model(frontend: TextFrontend) -> None:
    plain = frontend.encode("我姓曾。")
    marked = frontend.encode(f"我姓{span('曾', 'zeng1')}。")
    assert plain.pinyin[-1] == "ceng2"
    assert marked.pinyin == ("wo3", "xing4", "zeng1")
    assert "c eng2" in plain.phonemes and "z eng1" in marked.phonemes
    assert list(plain.ids) != list(marked.ids)
    assert marked.normalized == "我姓曾。"


def test_span_syllables_are_not_changed_by_sandhi(frontend: TextFrontend) -> None:
    # 你好: third-tone sandhi makes 你 ni2; a span keeps what it says.
    assert frontend.encode("你好").pinyin == ("ni2", "hao3")
    assert frontend.encode(span("你好", "ni3 hao3")).pinyin == ("ni3", "hao3")
    # 一 before a fourth tone is yi2; in a span it stays yi1.
    assert frontend.encode(span("一", "yi1") + "个").pinyin[0] == "yi1"


def test_punctuation_next_to_a_span_keeps_its_pause(frontend: TextFrontend) -> None:
    result = frontend.encode(span("曾", "zeng1") + "，你好。")
    assert result.phonemes.startswith("sil z eng1 #3 n i2")


def test_numbers_after_a_span_are_still_normalized(frontend: TextFrontend) -> None:
    result = frontend.encode(span("曾", "zeng1") + "有3本书")
    assert "san1" in result.pinyin and result.pinyin[0] == "zeng1"


def test_latin_word_span_takes_any_number_of_syllables(frontend: TextFrontend) -> None:
    result = frontend.encode(f"买{span('Tesla', 'te4 si1 la1')}")
    assert result.pinyin == ("mai3", "te4", "si1", "la1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (span("曾先", "zeng1"), "2 characters but 1 pinyin syllables"),
        (span("曾", "zeng1 xian1"), "1 characters but 2 pinyin syllables"),
        (span("曾", "zzz1"), "'zzz1' is not a toned pinyin syllable"),
        (span("曾", "zeng"), "'zeng' is not a toned pinyin syllable"),
        (span("曾", ""), "no pinyin syllables"),
        ("abc" + OPEN + "曾", "malformed pronunciation markup"),
        ("曾" + CLOSE, "malformed pronunciation markup"),
    ],
)
def test_bad_spans_are_refused_naming_the_span(
    frontend: TextFrontend, text: str, message: str
) -> None:
    with pytest.raises(TextFrontendError, match=message):
        frontend.encode(text)


def test_split_inline_and_helpers() -> None:
    text = f"我姓{span('曾', 'Zeng1')}，{span('绿', 'lü4')}"
    assert split_inline(text) == ["我姓", Span("曾", ("zeng1",)), "，", Span("绿", ("lv4",))]
    assert visible_text(text) == "我姓曾，绿"
    assert strip_markup(text) == "我姓曾Zeng1，绿lü4"
    assert normalize_syllable("jv3") == "ju3" and normalize_syllable("huar1") == "huar1"
    assert normalize_syllable("xx1") is None and normalize_syllable("ma6") is None
    with pytest.raises(InlineMarkupError):
        split_inline(span("曾", "ma6"))


def test_long_spans_are_cut_into_small_atoms() -> None:
    chars = "一二三四五六七八九十"
    marked = mark(chars, tuple(["yi1"] * len(chars)))
    pieces = split_inline(marked)
    assert [len(p.chars) for p in pieces if isinstance(p, Span)] == [MAX_SPAN_CHARS, 2]


def test_the_kantts_frontend_honours_spans(tables: UnitTables) -> None:
    units = KanttsUnitsFrontend(tables)
    plain = units.units("我姓曾", "F7")
    marked = units.units(f"我姓{span('曾', 'zeng1')}", "F7")
    assert "{c_c$tone2" in plain and "{z_c$tone1" in marked
    assert "{c_c" not in marked
    with pytest.raises(TextFrontendError, match="1 characters but 2"):
        units.units(span("曾", "zeng1 ceng2"), "F7")


@pytest.fixture(scope="module")
def tables() -> UnitTables:
    return UnitTables.for_speakers(["F7"])
