"""The variant benchmark's second ASR set and its PASS/FAIL rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.bench_vocoder_variants import FLOAT, long_text_chunks, print_asr_rows
from mandarin_tts.eval.pinyin_error import ErrorCount


def test_long_text_is_cut_like_the_frontend_cuts_it(tmp_path: Path) -> None:
    text = "语音合成，又称文语转换，是一种将文字信息转化为可听的声音信息的技术。" * 3
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    chunks = long_text_chunks(path)
    assert len(chunks) > 3 and all(len(chunk) <= 30 for chunk in chunks)
    assert "".join(chunks).replace(" ", "") == text


def test_rows_apply_the_half_point_rule(capsys: pytest.CaptureFixture[str]) -> None:
    print_asr_rows(
        {
            FLOAT: ErrorCount(10, 1000),  # 1.0 %
            "close": ErrorCount(15, 1000),  # +0.5 pt
            "worse": ErrorCount(16, 1000),  # +0.6 pt
        }
    )
    lines = capsys.readouterr().out.splitlines()
    assert "+0.50 pt  PASS" in lines[1] and "+0.60 pt  FAIL" in lines[2]
