"""Tone sandhi on G2P output: 一 and 不, then third-tone runs, phrase by phrase.

A phrase is a run of Chinese words between pauses (punctuation, spelled letters or a
fixed reading from inline markup); sandhi never crosses a pause.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mandarin_tts.text.g2p import Token, Word

_DIGIT_NUMERALS = frozenset("零一二三四五六七八九十两幺")
_MAGNITUDES = frozenset("百千万亿")
# 一 keeps its first tone before these in dates and names of floors, lines, months.
_YI1_BEFORE = frozenset("月号楼")
# Words between two numbers (decimal point, score, range, arithmetic).
_BETWEEN_NUMBERS = frozenset("点比到加减乘除")


def _tone(syllable: str) -> str:
    return syllable[-1]


def _with_tone(syllable: str, tone: str) -> str:
    return syllable[:-1] + tone


def phrases(tokens: list[Token]) -> Iterator[list[Word]]:
    run: list[Word] = []
    for token in tokens:
        if isinstance(token, Word) and not token.is_letters and not token.fixed:
            run.append(token)
            continue
        if run:
            yield run
        run = []
    if run:
        yield run


def _yi_tone(chars: str, tones: list[str], k: int, word: Word, pos: int) -> str:
    prev = chars[k - 1] if k > 0 else ""
    nxt = chars[k + 1] if k + 1 < len(chars) else ""
    after_next = chars[k + 2] if k + 2 < len(chars) else ""
    if prev and prev == nxt and prev not in _BETWEEN_NUMBERS:
        return "5"  # 看一看 (but 二点一点三 is a version number)
    if prev in ("第", "月") or prev in _DIGIT_NUMERALS or prev in _MAGNITUDES:
        return "1"  # 第一, 十一, 二零一五, 三月一日
    if prev == "点" and k > 1 and chars[k - 2] in _DIGIT_NUMERALS:
        return "1"  # 三点一四
    if nxt in _DIGIT_NUMERALS or nxt in _YI1_BEFORE:
        return "1"  # 一九四九, 一月, 一号
    if nxt in _BETWEEN_NUMBERS and after_next in _DIGIT_NUMERALS:
        return "1"  # 一点五, 一比二, 一到三, 一加一
    if nxt == "等" and after_next == "于":
        return "1"  # 一等于
    if not nxt or (len(word.text) > 1 and pos == len(word.text) - 1):
        return "1"  # 统一, 唯一, phrase-final
    return "2" if tones[k + 1] in "45" else "4"


def _bu_tone(chars: str, tones: list[str], k: int, word: Word, pos: int) -> str:
    prev = chars[k - 1] if k > 0 else ""
    nxt = chars[k + 1] if k + 1 < len(chars) else ""
    if prev and prev == nxt:
        return "5"  # 是不是
    if len(word.text) == 3 and pos == 1:
        return "5"  # 对不起, 看不见 (verb-不-complement)
    return "2" if nxt and tones[k + 1] == "4" else "4"


def apply_yi_bu(phrase: list[Word]) -> None:
    slots = [(w, i) for w in phrase for i in range(len(w.syllables))]
    chars = "".join(w.text for w in phrase)
    if len(chars) != len(slots):  # erhua merged a character away: align by syllables
        chars = "".join(w.text[: len(w.syllables)] for w in phrase)
    tones = [_tone(w.syllables[i]) for w, i in slots]
    for k, (word, pos) in enumerate(slots):
        syllable = word.syllables[pos]
        if chars[k] == "一" and syllable.startswith("yi"):
            word.syllables[pos] = _with_tone(syllable, _yi_tone(chars, tones, k, word, pos))
        elif chars[k] == "不" and syllable.startswith("bu"):
            word.syllables[pos] = _with_tone(syllable, _bu_tone(chars, tones, k, word, pos))


def _join(parts: list[list[str]]) -> list[str]:
    """Third-tone sandhi at the boundaries between already-processed parts, right to left."""
    for i in range(len(parts) - 2, -1, -1):
        left, right = parts[i], parts[i + 1]
        if left and right and _tone(left[-1]) == "3" and _tone(right[0]) == "3":
            left[-1] = _with_tone(left[-1], "2")
    return [s for part in parts for s in part]


def _word_third_tone(text: str, syllables: list[str], is_word: Callable[[str], bool]) -> list[str]:
    """Within a word, follow its internal structure: 展览|馆 -> 2 2 3, 小|老虎 -> 3 2 3."""
    n = len(syllables)
    if n < 2 or len(text) != n:
        return _join([[s] for s in syllables])
    if n == 2:
        return _join([[syllables[0]], [syllables[1]]])
    # Three syllables split 2+1 when the first two form a word, else 1+2; longer ones 2+rest.
    cut = (2 if is_word(text[:2]) else 1) if n == 3 else 2
    return _join([
        _word_third_tone(text[:cut], syllables[:cut], is_word),
        _word_third_tone(text[cut:], syllables[cut:], is_word),
    ])  # fmt: skip


def apply_third_tone(phrase: list[Word], is_word: Callable[[str], bool]) -> None:
    parts = [_word_third_tone(w.text, list(w.syllables), is_word) for w in phrase]
    joined = _join(parts)
    start = 0
    for word in phrase:
        word.syllables = joined[start : start + len(word.syllables)]
        start += len(word.syllables)


def apply_sandhi(tokens: list[Token], is_word: Callable[[str], bool]) -> None:
    for phrase in phrases(tokens):
        apply_yi_bu(phrase)
        apply_third_tone(phrase, is_word)
