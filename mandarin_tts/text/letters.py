"""How Latin letters are spelled with Mandarin syllables (the voice has no English phones).

The readings follow how letters are commonly said in Mandarin speech; 'R' uses erhua.
"""

from __future__ import annotations

LETTER_SYLLABLES: dict[str, tuple[str, ...]] = {
    "A": ("ei1",),
    "B": ("bi4",),
    "C": ("xi1",),
    "D": ("di4",),
    "E": ("yi4",),
    "F": ("ai2", "fu5"),
    "G": ("ji4",),
    "H": ("ai4", "qi1"),
    "I": ("ai4",),
    "J": ("zhei4",),
    "K": ("kei4",),
    "L": ("ai2", "le5"),
    "M": ("ai2", "mu5"),
    "N": ("en1",),
    "O": ("ou1",),
    "P": ("pi1",),
    "Q": ("qiu1",),
    "R": ("ar4",),
    "S": ("ai2", "si5"),
    "T": ("ti4",),
    "U": ("you1",),
    "V": ("wei1",),
    "W": ("da2", "bu5", "liu5"),
    "X": ("ai2", "ke4", "si5"),
    "Y": ("wai1",),
    "Z": ("zei4",),
}


def spell(letters: str) -> list[str]:
    """'GPU' -> ['ji4', 'pi1', 'you1']; characters that are not A-Z are skipped."""
    out: list[str] = []
    for char in letters.upper():
        out.extend(LETTER_SYLLABLES.get(char, ()))
    return out
