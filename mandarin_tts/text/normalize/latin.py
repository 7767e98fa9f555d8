"""Long Latin letter runs spelled in pieces with short pauses (the voice has no English
phones, so every Latin word is spelled; a long one needs breath marks like a code)."""

from __future__ import annotations

import re

from mandarin_tts.text.normalize.readings import GROUP_PAUSE
from mandarin_tts.text.normalize.rules import Rule, rule

# A word this long is read in pieces if it has no vowel pattern (a code, a hash) ...
CODE_LIKE_MIN = 13
# ... and any word longer than this.
ALWAYS_PIECES_OVER = 20
PIECE = 4
_CONSONANT_RUN = re.compile(r"[^aeiouyAEIOUY]{5,}")


def looks_like_a_word(letters: str) -> bool:
    """Vowels at least every 4 letters and a fifth of the letters: 'International' yes,
    'XKCDQZPTRWBN' no."""
    vowels = sum(c in "aeiouyAEIOUY" for c in letters)
    return vowels * 5 >= len(letters) and not _CONSONANT_RUN.search(letters)


def letter_pieces(letters: str) -> list[str]:
    """Pieces of PIECE letters; a last piece of one letter joins the one before."""
    pieces = [letters[i : i + PIECE] for i in range(0, len(letters), PIECE)]
    if len(pieces) > 1 and len(pieces[-1]) == 1:
        pieces[-2:] = [pieces[-2][:-1], pieces[-2][-1] + pieces[-1]]
    return pieces


@rule("long_latin_word", rf"[A-Za-z]{{{CODE_LIKE_MIN},}}")
def _long_latin_word(m: re.Match[str]) -> str:
    word = m.group(0)
    if len(word) <= ALWAYS_PIECES_OVER and looks_like_a_word(word):
        return word
    return GROUP_PAUSE.join(letter_pieces(word))


RULES: list[Rule] = [_long_latin_word]
