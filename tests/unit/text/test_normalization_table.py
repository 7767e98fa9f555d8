"""Normalized text and toned pinyin (after sandhi) for each normalization category.

Every row of normalization_cases.json: (input, expected normalized text, expected pinyin).
Expectations are the standard Mandarin readings, written by hand; tone numbers are the
surface tones the voice should say (third-tone sandhi applied, 5 = neutral).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# {category: [[input, normalized, pinyin], ...]}: a data file, so the table reads as data.
CASES_FILE = Path(__file__).with_name("normalization_cases.json")
CASES: dict[str, list[list[str]]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))

ROWS = [(cat, *row) for cat, rows in CASES.items() for row in rows]


@pytest.mark.parametrize(
    ("category", "text", "normalized", "pinyin"),
    ROWS,
    ids=[f"{cat}:{text}" for cat, text, _, _ in ROWS],
)
def test_reading(frontend, category, text, normalized, pinyin):
    result = frontend.encode(text)
    assert result.normalized == normalized
    assert " ".join(result.pinyin) == pinyin
