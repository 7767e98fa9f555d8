"""The cleanup before chunking, the public wording of refusals, and a fuzz test: random
Unicode and odd tokens through the cleanup, the real text frontend and the chunker with the
voice's real measure never raise anything but the documented user errors."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontend.chunking import UnencodableText, split_text
from frontend.text_cleanup import MAX_MARKS_PER_BASE, clean_user_text, public_reason
from mandarin_tts.text import TextFrontend, TextFrontendError


@pytest.fixture(scope="module")
def baker() -> tuple[Callable[[str], int], int]:
    """The bundled voice's text frontend, as the HTTP frontend gives it to the chunker."""
    from frontend.voices import BUILTIN_VOICE, VoiceCatalogue, VoiceChoice

    catalogue = VoiceCatalogue({"baker": BUILTIN_VOICE})
    measured = catalogue.measure(VoiceChoice(BUILTIN_VOICE, "baker", "neutral"))
    assert measured is not None
    return measured


@pytest.fixture(scope="module")
def text_frontend() -> TextFrontend:
    return TextFrontend()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("e\u0301", "e"),  # NFC, then Latin letters without diacritics (they are spelled)
        ("café", "cafe"),
        ("Б\u0301\u0301好\u0301", "好\u0301"),  # a dropped letter takes its marks along
        ("你\u200b好\u200d\u2060\ufeff", "你好"),  # zero-width and invisible characters
        ("\u202e你好\u202c\u2066a\u2069\u200f", "你好a"),  # bidi controls
        ("a\ue000b\ue001c\ue002\U000f0001\U0010fffd", "abc"),  # private use (our markup's)
        ("你\x00们\x1b好\x7f\x85", "你们好\n"),  # C0/C1 controls (NEL is a line break)
        ("x\u2028y\u2029z", "x\ny\nz"),
        ("\ud800你好\udfff", "你好"),  # lone surrogates (JSON can carry them)
        ("好\ufe0f\U000e0100", "好"),  # variation selectors
        ("\U000e0041\U000e007f旗", "旗"),  # tag characters
        ("\ufdd0\uffff好\U0001fffe", "好"),  # noncharacters
        ("Привет。你好", "。你好"),  # a script no voice reads: dropped, not a refused chunk
        ("ＡＢＣ１２３", "ABC123"),
        ("tab\tand\nnewline\r", "tab\tand\nnewline\r"),  # kept for the chunker
        ("3:2，50%，¥12.5", "3:2，50%，¥12.5"),  # punctuation and symbols are the normalizer's
    ],
)
def test_cleanup(raw: str, clean: str) -> None:
    assert clean_user_text(raw) == clean


def test_combining_marks_are_bounded_per_base_character() -> None:
    text = clean_user_text("好" + "\u0301" * 5000 + "。" + "a" + "\u0308\u0301\u0323\u0330" * 3)
    assert text.startswith("好" + "\u0301" * MAX_MARKS_PER_BASE + "。")
    assert len(text) < 12


def test_long_urls_are_shortened_before_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MANDARIN_TTS_URL_POLICY", raising=False)
    url = "https://www.example.com/" + "/".join(f"seg{i}" for i in range(60))
    assert clean_user_text(f"请访问{url}。") == "请访问https://www.example.com。"
    monkeypatch.setenv("MANDARIN_TTS_URL_POLICY", "full")
    assert clean_user_text(url) == url


def test_long_runs_are_written_out_in_their_spoken_groups() -> None:
    """So the chunker cuts them at group boundaries; the reading does not change."""
    from mandarin_tts.text.normalize import normalize_text

    digits = "编号" + "1234567890" * 3 + "。"
    assert clean_user_text(digits) == (
        "编号幺二三四、五六七八、九零幺二、三四五六、七八九零、幺二三四、五六七八、九零。"
    )
    assert clean_user_text("x" * 25) == "xxxx、xxxx、xxxx、xxxx、xxxx、xxx、xx"
    for text in (digits, "x" * 25, "a" * 21 + "好"):
        assert normalize_text(clean_user_text(text)) == normalize_text(text)
    # Not inside URLs, decimals or shorter codes (their readings depend on context).
    for kept in ("https://a.cn/" + "b" * 30, "1." + "5" * 30, "手机13912345678", "1" * 19):
        assert clean_user_text(kept) == kept


@pytest.mark.parametrize(
    "message",
    [
        "in ensemble 'tts', TEXT expands to 656 symbols; the acoustic model takes at most 256 "
        "(about 80 Chinese characters). Split it into shorter sentences.",
        "in ensemble 'tts_aishu', [request id: 7] TEXT expands to 300 linguistic units; the "
        "acoustic model takes at most 256. Split it into shorter sentences.",
        "TEXT has nothing speakable (only punctuation, emoji, ...); send Chinese text",
        "SPEED must be within [0.5, 2.0], got 9",
    ],
)
def test_public_reasons_carry_no_triton_wording(message: str) -> None:
    public = public_reason(message)
    for internal in ("in ensemble", "TEXT", "SPEED", "request id", "expands to", "tts"):
        assert internal not in public
    assert public  # still says something


def test_public_reason_keeps_the_numbers() -> None:
    public = public_reason("in ensemble 'tts', TEXT expands to 656 symbols; the acoustic model "
                           "takes at most 256 (about 80 Chinese characters). Split it.")  # fmt: skip
    assert "656" in public and "256" in public


# ---------------------------------------------------------------------------------- fuzzing

_any_code_point = st.integers(0, 0x10FFFF).map(chr)  # every plane, surrogates included
_odd = st.sampled_from(
    [
        "\u0301" * 300,  # a pile of combining marks
        "\u05e9\u05dc\u05d5\u05dd",  # Hebrew (RTL)
        "\u0645\u0631\u062d\u0628\u0627",  # Arabic (RTL)
        "\u202e",
        "👨\u200d👩\u200d👧",  # emoji with joiners
        "🇨🇳",
        "\x00\x07\x1b",
        "\ue000曾\ue001zeng1\ue002",  # forged inline markup
        "8" * 150,  # long digit runs
        "0" + "1" * 40,
        "https://www.example.com/" + "abc/" * 40,  # long URL
        "user.name+tag@mail.example.com.cn",
        "x" * 400,  # a long Latin word
        "bcdfghjklmnpqrstvwxz" * 5,
        "13912345678",
        "2024年3月5日",
        "12:30",
        "3:2",
        "v2.1.3",
        "-3.5%",
        "¥1,234.56",
        "，。！？、",
        "\n\n",
        " ",
    ]
)
_chinese = st.sampled_from(["你好", "我们的语音合成服务", "很好用了。", "电话是", "请访问"])
_texts = st.one_of(
    st.lists(_any_code_point, max_size=120).map("".join),
    st.lists(st.one_of(_odd, _chinese, _any_code_point), max_size=12).map("".join),
)


def _invariants_of_clean(text: str) -> None:
    run = 0
    for char in text:
        category = unicodedata.category(char)
        assert category not in ("Cf", "Cs", "Co", "Cn") or char in "\t\n\r", repr(char)
        assert category != "Cc" or char in "\t\n\r", repr(char)
        run = run + 1 if category.startswith("M") else 0
        assert run <= MAX_MARKS_PER_BASE


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts)
def test_random_text_is_chunked_into_speakable_pieces_or_a_user_error(
    baker: tuple[Callable[[str], int], int], text: str
) -> None:
    measure, max_units = baker
    clean = clean_user_text(text)
    _invariants_of_clean(clean)
    assert clean_user_text(clean) == clean  # idempotent: the service may clean twice
    try:
        chunks = split_text(clean, 30, 15, measure=measure, max_units=max_units)
    except UnencodableText as error:  # documented: a 400 quoting error.text
        assert error.text and error.reason
        return
    for chunk in chunks:
        assert measure(chunk.text) <= max_units


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts)
def test_the_real_text_frontend_encodes_cleaned_text_or_says_why(
    text_frontend: TextFrontend, text: str
) -> None:
    try:
        result = text_frontend.encode(clean_user_text(text)[:200])
    except TextFrontendError as error:
        assert str(error)
        return
    assert len(result.ids) <= 256 and result.pinyin
