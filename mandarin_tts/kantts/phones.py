"""Toned pinyin syllables and Latin letters -> KAN-TTS PinYin phones (py2phoneMap.txt).

KAN-TTS writes every Mandarin syllable as two phones: an initial ('zh_c', 'xx_c' for x,
'y_c'/'w_c' for y-/w-, 'ga'/'ge'/'go' for a zero initial before a/e/o) and a final ('ao_c',
'ih_c' after zh/ch/sh/r, 'ii_c' after z/c/s, 'v_c'.. for u-umlaut, written 'jv', 'yvan').
Erhua syllables have their own finals ('huar' -> 'h_c uar_c'). Our G2P spells u-umlaut
after j/q/x/y as 'u' (pypinyin), so those are respelled with 'v' first.

English letters use the phone set's English (ARPAbet) phones, one syllable per letter;
their tones are the stress of the vowel (tone1 stressed, tone0 not), as KAN-TTS's English
syllable formatter gives them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mandarin_tts.kantts.errors import KanttsUnitsError
from mandarin_tts.kantts.tables import DATA_DIR, pinyin_phones

PY2PHONE_TXT = DATA_DIR / "py2phoneMap.txt"
_SYLLABLE = re.compile(r"^([a-z]+)([1-5])$")
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h",
             "j", "q", "x", "r", "z", "c", "s", "y", "w")  # fmt: skip
# Syllables the map lacks, as the nearest syllable it has. KAN-TTS itself reads 'ng'
# as 'en' (its NgBreakPattern rule); the others are interjections.
_NEAREST = {"ng": "en", "n": "en", "m": "mu", "hm": "hen", "hng": "heng", "yai": "ai"}


@dataclass(frozen=True)
class Syllable:
    phones: tuple[str, ...]
    tone: str  # 'tone1'..'tone5' (Mandarin), 'tone0'/'tone1' (English stress)


@lru_cache(maxsize=1)
def py2phone() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for n, line in enumerate(Path(PY2PHONE_TXT).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("\t")
        if not sep or not value.split():
            raise KanttsUnitsError(f"{PY2PHONE_TXT}:{n}: expected 'syllable<TAB>phones'")
        table[key] = tuple(value.split())
    return table


def respell_umlaut(base: str) -> str:
    """'ju' -> 'jv', 'quan' -> 'qvan', 'xue' -> 'xve', 'yun' -> 'yvn', 'lue' -> 'lve'."""
    if base[:1] in ("j", "q", "x", "y") and base[1:2] == "u":
        return base[0] + "v" + base[2:]
    if base in ("lue", "nue"):
        return base[0] + "ve"
    return base


def _final_phone(initial: str, final: str) -> str | None:
    """A final spelled in pinyin -> its phone, for syllables the map does not list."""
    phones = set(pinyin_phones())
    if final == "i" and initial in ("zh", "ch", "sh", "r"):
        return "ih_c"
    if final == "i" and initial in ("z", "c", "s"):
        return "ii_c"
    spelled = {"ui": "uei", "un": "uen", "iu": "iou", "ue": "ve"}.get(final, final)
    phone = f"{spelled}_c"
    return phone if phone in phones else None


def _base_phones(base: str) -> tuple[str, ...] | None:
    table = py2phone()
    base = _NEAREST.get(base, base)
    if base in table:
        return table[base]
    for initial in _INITIALS:
        if base.startswith(initial) and len(base) > len(initial):
            final = _final_phone(initial, base[len(initial) :])
            if final is None:
                return None
            return ("xx_c" if initial == "x" else f"{initial}_c", final)
    return None


def _erhua_phones(base: str) -> tuple[str, ...] | None:
    """'huar' -> ('h_c', 'uar_c'); a listed erhua syllable, else the final's own r-phone."""
    table = py2phone()
    if base in table:
        return table[base]
    plain = _base_phones(base[:-1])
    if plain is None:
        return None
    r_final = plain[-1].removesuffix("_c") + "r_c"
    if r_final in set(pinyin_phones()):
        return (*plain[:-1], r_final)
    return plain  # no r-coloured phone for this final: keep the plain syllable


def syllable_phones(syllable: str) -> Syllable:
    """'zhong1' -> zh_c ong_c tone1; 'ju2' -> j_c v_c; 'huar1' -> h_c uar_c; 'er2' -> ge er_c."""
    match = _SYLLABLE.match(syllable)
    if match is None:
        raise KanttsUnitsError(f"not a toned pinyin syllable: {syllable!r} (e.g. 'zhong1')")
    base, tone = respell_umlaut(match.group(1)), f"tone{match.group(2)}"
    erhua = base.endswith("r") and base != "er"
    phones = _erhua_phones(base) if erhua else _base_phones(base)
    if phones is None:
        phones = py2phone()["e"]  # unknown syllable: a neutral schwa keeps the timing
    return Syllable(phones, tone)


# Letter names in General American English (CMUdict readings), syllables split by '.':
# a digit marks the vowel's stress.
_LETTERS = {
    "A": "ey1", "B": "b iy1", "C": "s iy1", "D": "d iy1", "E": "iy1", "F": "eh1 f",
    "G": "jh iy1", "H": "ey1 ch", "I": "ay1", "J": "jh ey1", "K": "k ey1", "L": "eh1 l",
    "M": "eh1 m", "N": "eh1 n", "O": "ow1", "P": "p iy1", "Q": "k y uw1", "R": "aa1 r",
    "S": "eh1 s", "T": "t iy1", "U": "y uw1", "V": "v iy1", "W": "d ah1 . b ah0 l . y uw0",
    "X": "eh1 k s", "Y": "w ay1", "Z": "z iy1",
}  # fmt: skip


def _english_syllable(text: str) -> Syllable:
    phones, tone = [], "tone0"
    for token in text.split():
        if token[-1].isdigit():
            tone = "tone1" if token[-1] == "1" else "tone0"
            token = token[:-1]
        phones.append(token)
    return Syllable(tuple(phones), tone)


def letter_syllables(letters: str) -> list[Syllable]:
    """'GPU' -> [jh iy, p iy, y uw] (tone1 each); characters that are not A-Z are skipped."""
    out: list[Syllable] = []
    for char in letters.upper():
        spelled = _LETTERS.get(char)
        if spelled:
            out.extend(_english_syllable(part) for part in spelled.split("."))
    return out
