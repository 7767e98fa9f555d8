"""Which spoken character each acoustic-model symbol belongs to, for timestamps.

A *spoken character* is one character of the normalized text that has a reading (a Chinese
character, or one Latin letter spelled with Mandarin syllables); its pinyin is the toned
syllable(s) actually sent to the model, after sandhi. The framing (`prosody.to_symbols`)
gives every syllable two or three symbols; `sil`, `eos` and the prosody marks `#0`..`#3`
belong to no character (NO_CHAR): their frames are the pauses between characters.
"""

from __future__ import annotations

from dataclasses import dataclass

from mandarin_tts.text.g2p import Pause, Token, Word
from mandarin_tts.text.letters import LETTER_SYLLABLES
from mandarin_tts.text.symbols import BOUNDARY_MARKS, SIL, syllable_symbols

NO_CHAR = -1


@dataclass(frozen=True)
class SymbolAlignment:
    chars: tuple[str, ...]  # spoken characters, in order
    pinyin: tuple[str, ...]  # per character: its toned syllables, space-separated
    symbol_chars: tuple[int, ...]  # per symbol: index into `chars`, or NO_CHAR


def word_characters(word: Word) -> list[tuple[str, list[str]]]:
    """(character, its syllables) of a word. Letters are spelled one by one ('F' is two
    syllables); an erhua syllable ('huar1') stays with its character; a word whose
    characters and syllables do not pair up is one unit."""
    if word.is_letters:
        pieces: list[tuple[str, list[str]]] = []
        at = 0
        for char in word.text.upper():
            count = len(LETTER_SYLLABLES.get(char, ()))
            if count:
                pieces.append((char, word.syllables[at : at + count]))
                at += count
        if at == len(word.syllables):
            return pieces
    elif len(word.text) == len(word.syllables):
        return [(char, [syl]) for char, syl in zip(word.text, word.syllables, strict=True)]
    return [(word.text, list(word.syllables))]


def align_symbols(tokens: list[Token], symbols: list[str]) -> SymbolAlignment:
    """The alignment of `symbols` (= `prosody.to_symbols(tokens)`) to spoken characters.

    Walks the same framing: a syllable's symbols are `syllable_symbols(syllable)`; every
    other symbol (sil, boundary marks, eos) is NO_CHAR."""
    chars: list[str] = []
    pinyin: list[str] = []
    owners: list[int] = []  # per syllable, in order
    for token in tokens:
        if isinstance(token, Pause):
            continue
        for char, syllables in word_characters(token):
            owners.extend([len(chars)] * len(syllables))
            chars.append(char)
            pinyin.append(" ".join(syllables))
    syllables = [s for t in tokens if isinstance(t, Word) for s in t.syllables]
    symbol_chars: list[int] = []
    at = 1 if symbols[:1] == [SIL] else 0  # the leading sil
    symbol_chars.extend([NO_CHAR] * at)
    for owner, syllable in zip(owners, syllables, strict=True):
        expected = syllable_symbols(syllable)
        while at < len(symbols) and symbols[at] in BOUNDARY_MARKS:  # between syllables
            symbol_chars.append(NO_CHAR)
            at += 1
        if symbols[at : at + len(expected)] != expected:
            raise ValueError(f"symbols do not follow the tokens' framing at {syllable!r}")
        symbol_chars.extend([owner] * len(expected))
        at += len(expected)
    symbol_chars.extend([NO_CHAR] * (len(symbols) - at))
    if len(symbol_chars) != len(symbols):
        raise ValueError("symbols do not follow the tokens' framing")
    return SymbolAlignment(tuple(chars), tuple(pinyin), tuple(symbol_chars))
