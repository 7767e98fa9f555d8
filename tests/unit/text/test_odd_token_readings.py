"""Odd tokens are read, never refused: digit groups with short pauses, URLs and e-mail
addresses by their parts under the URL policy, long Latin words in pieces."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mandarin_tts.text.normalize import normalize_text
from mandarin_tts.text.normalize.addresses import (
    URL_FULL_MAX_CHARS,
    URL_POLICY_ENV,
    shorten_urls,
    url_policy,
)
from mandarin_tts.text.normalize.latin import letter_pieces, looks_like_a_word
from mandarin_tts.text.normalize.readings import GROUP_PAUSE, digit_groups, read_code


def _syllables_between_breaks(phonemes: str, mark: str) -> list[int]:
    """Syllables (toned finals) between consecutive `mark`s of a symbol string."""
    counts, n = [], 0
    for symbol in phonemes.split():
        if symbol == mark:
            counts.append(n)
            n = 0
        elif symbol[-1].isdigit() and not symbol.startswith("#"):
            n += 1
    return [*counts, n]


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("13912345678", [3, 4, 4]),  # mobile 3-4-4
        ("010-12345678", [3, 4, 4]),  # area code, then 4-4
        ("4008001234", [3, 3, 4]),
        ("验证码是123456", [7, 3]),  # 验证码是幺二三 | 四五六
    ],
)
def test_digit_groups_become_the_models_phrase_break(frontend, text, groups):
    """The pause between groups reaches the acoustic model as '#2' (a prosodic phrase
    boundary the Baker labels know), between the right syllables."""
    phonemes = frontend.encode(text).phonemes
    assert _syllables_between_breaks(phonemes, "#2") == groups


def test_a_400_digit_number_is_read_in_groups_without_lone_digits():
    digits = "".join(str(i % 10) for i in range(400))
    spoken = normalize_text(digits).split(GROUP_PAUSE)
    assert len(spoken) == 100 and all(len(g) == 4 for g in spoken)
    assert "一" not in "".join(spoken) and "幺" in spoken[0]  # 1 is yao in a code


@given(st.text(alphabet="0123456789", min_size=1, max_size=60))
def test_digit_groups_keep_every_digit_and_never_leave_one_alone(digits):
    groups = digit_groups(digits)
    assert "".join(groups) == digits
    assert all(1 <= len(g) <= 5 for g in groups)
    assert len(digits) == 1 or all(len(g) >= 2 for g in groups)


def test_writer_grouping_is_kept_and_long_groups_regrouped():
    assert read_code("5-2-1034", ["5", "2", "1034"]) == "五、二、幺零三四"
    assert read_code("x", ["12345678"]) == "幺二三四、五六七八"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("full", "三W点EXAMPLE点COM斜杠A斜杠B"),
        ("host", "三W点EXAMPLE点COM"),
        ("auto", "三W点EXAMPLE点COM斜杠A斜杠B"),  # short: read in full
        ("nonsense", "三W点EXAMPLE点COM斜杠A斜杠B"),  # unknown value: the default
    ],
)
def test_url_policy(monkeypatch, policy, expected):
    monkeypatch.setenv(URL_POLICY_ENV, policy)
    assert normalize_text("https://www.example.com/a/b/") == expected


def test_auto_policy_reads_only_the_host_of_a_long_url(monkeypatch):
    monkeypatch.delenv(URL_POLICY_ENV, raising=False)
    assert url_policy() == "auto"
    url = "https://shop.example.cn/" + "x" * URL_FULL_MAX_CHARS
    assert normalize_text(f"请访问{url}。") == "请访问SHOP点EXAMPLE点CN。"
    assert shorten_urls(f"看{url}吧") == "看https://shop.example.cn吧"
    short = "http://a.cn/x"
    assert shorten_urls(short) == short


def test_email_digits_are_a_code():
    assert normalize_text("13912345678@163.com") == "幺三九、幺二三四、五六七八艾特幺六三点COM"


@pytest.mark.parametrize(
    ("word", "pieces"),
    [
        ("International", False),  # a pronounceable word of 13 letters stays whole
        ("XKCDQZPTRWBNM", True),  # 13 letters, no vowel pattern
        ("a" * 21, True),  # any word over 20
        ("Supercalifragilisticexpialidocious", True),
    ],
)
def test_long_latin_words_are_spelled_in_pieces(word, pieces):
    normalized = normalize_text(word)
    assert (GROUP_PAUSE in normalized) is pieces
    assert normalized.replace(GROUP_PAUSE, "") == word.upper()


def test_a_5000_letter_word_is_pieces_of_at_most_five():
    pieces = normalize_text("b" * 5000).split(GROUP_PAUSE)
    assert (
        sum(map(len, pieces)) == 5000 and max(map(len, pieces)) <= 5 and min(map(len, pieces)) >= 2
    )


def test_letter_pieces_never_leave_one_letter_alone():
    assert letter_pieces("ABCDEFGHI") == ["ABCD", "EFG", "HI"]
    assert not looks_like_a_word("BCDFGHJKLMNP") and looks_like_a_word("International")


def test_inline_spans_pass_the_normalizer_untouched():
    span = "\ue000曾\ue001zeng1\ue002"
    assert normalize_text(f"我姓{span}，电话13912345678。") == (
        f"我姓{span}，电话幺三九、幺二三四、五六七八。"
    )


def test_superscript_placeholders_cannot_be_forged():
    assert normalize_text("100m²") == "一百平方米"
    assert normalize_text("5\ufdd0") == "五"  # the placeholder itself is dropped


@pytest.mark.parametrize(("char", "syllable"), [("擥", "lan3"), ("蒭", "chu2"), ("騊", "tao2")])
def test_rare_traditional_characters_keep_a_reading(frontend, char, syllable):
    """zhconv maps 798 readable characters to forms nothing reads (outside the BMP, or
    without a pypinyin reading): a sentence of them was 'nothing speakable'."""
    assert frontend.encode(f"{char}。").pinyin == (syllable,)


def test_script_conversion_never_makes_a_character_unreadable():
    from pypinyin.pinyin_dict import pinyin_dict

    from mandarin_tts.text.normalize.charset import is_cjk, to_simplified

    for code in [*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000)]:
        if code in pinyin_dict:
            for out in to_simplified(chr(code)):
                assert not is_cjk(out) or ord(out) in pinyin_dict, chr(code)
