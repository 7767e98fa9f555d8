"""Lexicons: the deployment file (reloaded on change) and per-request entries, both as spans."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from mandarin_tts.text import TextFrontend
from mandarin_tts.text.inline import OPEN, SEP, split_inline
from mandarin_tts.text.lexicon import (
    LEXICON_ENV,
    LexiconError,
    LexiconFile,
    catch_up_lexicon,
    file_version,
    from_mapping,
    lexicon_from_env,
    parse_lexicon_text,
)


def test_file_format_comments_tabs_and_bad_lines() -> None:
    text = "# brand names\n曾先生\tzeng1 xian1 sheng5\nTesla te4 si1 la1  # car\n\n行长 hang2\n"
    lexicon, errors = parse_lexicon_text(text, "lex.txt")
    assert lexicon.entries == {
        "曾先生": ("zeng1", "xian1", "sheng5"),
        "Tesla": ("te4", "si1", "la1"),
    }
    assert len(errors) == 1 and errors[0].startswith("lex.txt:5:")
    assert "2 characters but 1 pinyin syllables" in errors[0]


def test_longest_match_wins_and_spans_already_there_are_kept() -> None:
    lexicon = from_mapping([("曾", "ceng2"), ("曾先生", "zeng1 xian1 sheng5")])
    marked = lexicon.apply(f"曾先生说{OPEN}曾{SEP}zeng1\ue002经")
    spans = [p for p in split_inline(marked) if not isinstance(p, str)]
    assert [(s.chars, s.syllables) for s in spans] == [
        ("曾先生", ("zeng1", "xian1", "sheng5")),
        ("曾", ("zeng1",)),  # the existing span (e.g. SSML phoneme) wins over the lexicon
    ]


@pytest.mark.parametrize(
    ("word", "pinyin", "message"),
    [
        ("曾", "zeng9", "not a toned pinyin syllable"),
        ("曾 先", "zeng1 xian1", "whitespace"),
        ("", "a1", "empty"),
        ("曾\ue000", "zeng1 zeng1", "private-use"),
        ("x" * 40, "a1", "at most 32"),
    ],
)
def test_strict_entries_name_the_entry(word: str, pinyin: str, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        from_mapping([(word, pinyin)], "lexicon")


def test_the_file_lexicon_changes_the_symbols_and_reloads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "lexicon.txt"
    path.write_text("曾 zeng1\n", encoding="utf-8")
    frontend = TextFrontend(lexicon=LexiconFile(path, check_s=0.0))
    assert frontend.encode("我姓曾").pinyin[-1] == "zeng1"
    # A new entry and a bad line: the good one applies, the bad one is logged with its line.
    path.write_text("曾 ceng2\n银行 yin2\n", encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    with caplog.at_level(logging.ERROR, logger="mandarin_tts.text.lexicon"):
        assert frontend.encode("我姓曾").pinyin[-1] == "ceng2"
    assert any(":2:" in r.getMessage() for r in caplog.records)
    # Removed file: G2P alone again.
    path.unlink()
    assert frontend.encode("曾经").pinyin[0] == "ceng2"


def test_reload_is_checked_at_most_once_per_interval(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.txt"
    path.write_text("曾 zeng1\n", encoding="utf-8")
    lexicon = LexiconFile(path, check_s=3600.0)
    lexicon.current()
    path.write_text("曾 ceng2\n", encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert lexicon.current().entries["曾"] == ("zeng1",)  # not checked again yet


def test_env_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "lex.txt"
    path.write_text("曾 zeng1\n", encoding="utf-8")
    assert lexicon_from_env({}) is None
    found = lexicon_from_env({LEXICON_ENV: str(path)})
    assert found is not None and found.current().entries == {"曾": ("zeng1",)}


def test_a_request_naming_a_newer_version_reloads_at_once(tmp_path: Path) -> None:
    path = tmp_path / "lex.txt"
    assert file_version(path) == ""  # absent
    path.write_text("曾 zeng1\n", encoding="utf-8")
    lexicon = LexiconFile(path, check_s=3600.0)
    assert lexicon.version == file_version(path) != ""
    lexicon.current()  # checked now: not again for an hour
    path.write_text("曾 ceng2\n", encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    lexicon.catch_up(lexicon.version)  # the version it has: nothing to do
    assert lexicon.current().entries["曾"] == ("zeng1",)
    lexicon.catch_up(file_version(path))  # the caller saw the edit: reload now
    assert lexicon.current().entries["曾"] == ("ceng2",)
    assert lexicon.version == file_version(path)


def test_the_env_lexicon_is_shared_by_the_process(tmp_path: Path) -> None:
    path = tmp_path / "shared.txt"
    path.write_text("曾 zeng1\n", encoding="utf-8")
    env = {LEXICON_ENV: str(path)}
    shared = lexicon_from_env(env)
    assert shared is not None and lexicon_from_env(env) is shared
    path.write_text("曾 ceng2\n", encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    catch_up_lexicon(file_version(path), env)
    assert shared.current().entries["曾"] == ("ceng2",)
