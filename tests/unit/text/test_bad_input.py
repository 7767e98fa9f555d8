"""Bad requests give TextFrontendError with a message saying what to fix; none crashes."""

from __future__ import annotations

import pytest

from mandarin_tts.contract import AC_MAX_SYMBOLS, TEXT_MAX_CHARS
from mandarin_tts.text import TextFrontendError, decode_request_text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("，。！？……", "nothing speakable"),
        ("😀👍🎉", "nothing speakable"),
        ("\x00\x01\u200b", "nothing speakable"),
        ("%%%$$$", "nothing speakable"),
        ("Здравствуйте", "nothing speakable"),
    ],
)
def test_unspeakable_text(frontend, text, message):
    with pytest.raises(TextFrontendError, match=message):
        frontend.encode(text)


def test_over_the_character_limit(frontend):
    frontend.encode("好" * 80)  # fits
    with pytest.raises(TextFrontendError, match=f"at most {TEXT_MAX_CHARS}"):
        frontend.encode("好" * (TEXT_MAX_CHARS + 1))


def test_million_characters_rejected_before_any_work(frontend):
    with pytest.raises(TextFrontendError, match="1000000 characters"):
        frontend.encode("中" * 1_000_000)


def test_over_the_symbol_limit(frontend):
    # 150 characters pass the raw limit but need ~450 symbols.
    with pytest.raises(TextFrontendError, match=f"at most {AC_MAX_SYMBOLS}"):
        frontend.encode("我" * 150)


def test_not_a_string(frontend):
    with pytest.raises(TextFrontendError, match="must be a string"):
        frontend.encode(b"bytes")  # type: ignore[arg-type]


def test_invalid_utf8():
    with pytest.raises(TextFrontendError, match="not valid UTF-8"):
        decode_request_text(b"\xe4\xbd\xa0\xff\xfe")
    with pytest.raises(TextFrontendError, match="not valid UTF-8"):
        decode_request_text("你".encode()[:2])  # truncated multi-byte sequence


def test_valid_utf8_round_trips():
    assert decode_request_text("你好".encode()) == "你好"


def test_error_is_a_value_error():
    assert issubclass(TextFrontendError, ValueError)
