"""Inline pronunciation markup: one mechanism for SSML `phoneme`, lexicon entries and the like.

A span `\\ue000<characters>\\ue001<toned pinyin, space-separated>\\ue002` says how its
characters are read. Both text frontends split TEXT into plain runs and spans first: plain
runs go through normalization and G2P, a span gets exactly its syllables (no sandhi, no
polyphone rules). The markers are private-use code points, so ordinary text never holds
them: the HTTP frontend strips private-use characters from user text (`strip_markup`)
before it inserts spans of its own. A direct Triton client may send spans too.

Rules for a span: every syllable is a known toned syllable ('zeng1', 'lv4', 'huar1');
a span of Chinese characters has exactly one syllable per character; a span with other
characters (a Latin brand name) takes between 1 and MAX_SPAN_SYLLABLES syllables.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

OPEN, SEP, CLOSE = "\ue000", "\ue001", "\ue002"
MARKERS = OPEN + SEP + CLOSE
# At most this many characters per span: longer phoneme texts become several spans, so a
# span stays a small atom the chunker never has to cut (and fits one Triton request).
MAX_SPAN_CHARS = 8
MAX_SPAN_SYLLABLES = 16
# Longest characters of one span that is not all Chinese (e.g. a brand name).
MAX_WORD_CHARS = 32

_SPAN = re.compile(f"{OPEN}([^{MARKERS}]*){SEP}([^{MARKERS}]*){CLOSE}")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
_TONED = re.compile(r"^([a-z]+)([1-5])$")
# Regex fragment the chunker uses to keep a span whole.
SPAN_PATTERN = f"{OPEN}[^{MARKERS}]*{SEP}[^{MARKERS}]*{CLOSE}"


class InlineMarkupError(ValueError):
    """A span is malformed or its pinyin does not fit its characters; says which span."""


@dataclass(frozen=True)
class Span:
    chars: str
    syllables: tuple[str, ...]


Piece = str | Span


def strip_markup(text: str) -> str:
    """Remove private-use characters (which include the markers) from user text."""
    return _PRIVATE_USE.sub("", text)


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


@lru_cache(maxsize=1)
def _bases() -> frozenset[str]:
    """Toneless syllables of the symbol table (417, the Baker corpus's inventory)."""
    from mandarin_tts.text.symbols import _pinyin_table

    return frozenset(_pinyin_table())


def normalize_syllable(raw: str) -> str | None:
    """'Zeng1' -> 'zeng1', 'lü4'/'lu:4' -> 'lv4', 'jv1' -> 'ju1', 'huar1' (erhua) kept;
    None when it is not a known toned syllable."""
    text = raw.strip().lower().replace("ü", "v").replace("u:", "v")
    match = _TONED.match(text)
    if match is None:
        return None
    base, tone = match.groups()
    if base[:1] in "jqxy" and base[1:2] == "v":
        base = base[0] + "u" + base[2:]  # the table spells ü after j/q/x/y as u
    bases = _bases()
    if base in bases or (base.endswith("r") and base != "er" and base[:-1] in bases):
        return base + tone
    return None


def parse_syllables(pinyin: str, where: str) -> tuple[str, ...]:
    """'zeng1 xian1' -> ('zeng1', 'xian1'); an unknown syllable raises, naming `where`."""
    out = []
    for raw in pinyin.split():
        syllable = normalize_syllable(raw)
        if syllable is None:
            raise InlineMarkupError(
                f"{where}: {raw[:20]!r} is not a toned pinyin syllable; write syllables such as "
                "'zeng1' or 'lv4' (tone 1-4, 5 for the neutral tone), separated by spaces"
            )
        out.append(syllable)
    return tuple(out)


def check_span(chars: str, syllables: tuple[str, ...], where: str) -> None:
    if not chars.strip():
        raise InlineMarkupError(f"{where}: no characters to read")
    if not syllables:
        raise InlineMarkupError(f"{where}: no pinyin syllables for {chars[:20]!r}")
    if all(_is_cjk(c) for c in chars):
        if len(syllables) != len(chars):
            raise InlineMarkupError(
                f"{where}: {chars[:20]!r} has {len(chars)} characters but {len(syllables)} "
                "pinyin syllables; give one syllable per character"
            )
        return
    if len(chars) > MAX_WORD_CHARS or len(syllables) > MAX_SPAN_SYLLABLES:
        raise InlineMarkupError(
            f"{where}: {chars[:20]!r} is too long for one reading; at most {MAX_WORD_CHARS} "
            f"characters and {MAX_SPAN_SYLLABLES} syllables"
        )


def mark(chars: str, syllables: tuple[str, ...], where: str = "reading") -> str:
    """Markup for `chars` read as `syllables` (checked); long Chinese spans are cut into
    spans of at most MAX_SPAN_CHARS characters."""
    chars = strip_markup(chars)
    check_span(chars, syllables, where)
    if not all(_is_cjk(c) for c in chars):
        return f"{OPEN}{chars}{SEP}{' '.join(syllables)}{CLOSE}"
    return "".join(
        f"{OPEN}{chars[i : i + MAX_SPAN_CHARS]}{SEP}"
        f"{' '.join(syllables[i : i + MAX_SPAN_CHARS])}{CLOSE}"
        for i in range(0, len(chars), MAX_SPAN_CHARS)
    )


def split_inline(text: str) -> list[Piece]:
    """Plain runs and checked spans in order; a stray or malformed marker raises."""
    pieces: list[Piece] = []
    pos = 0
    for n, match in enumerate(_SPAN.finditer(text), 1):
        _plain(text[pos : match.start()], pieces)
        chars, pinyin = match.group(1), match.group(2)
        where = f"pronunciation span {n} ({chars[:20]!r})"
        syllables = parse_syllables(pinyin, where)
        check_span(chars, syllables, where)
        pieces.append(Span(chars, syllables))
        pos = match.end()
    _plain(text[pos:], pieces)
    return pieces


def _plain(run: str, pieces: list[Piece]) -> None:
    if not run:
        return
    stray = next((c for c in run if c in MARKERS), None)
    if stray is not None:
        at = run.index(stray)
        raise InlineMarkupError(
            f"malformed pronunciation markup near {run[max(0, at - 10) : at + 10]!r}: a span "
            "is U+E000 characters U+E001 pinyin U+E002"
        )
    pieces.append(run)


def map_plain(text: str, change: Callable[[str], str]) -> str:
    """`text` with `change` applied to its plain runs only (spans are left as they are)."""
    out = []
    pos = 0
    for match in _SPAN.finditer(text):
        out.append(change(text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(change(text[pos:]))
    return "".join(out)


def visible_text(text: str) -> str:
    """The characters a reader sees: spans replaced by their characters."""
    return _SPAN.sub(lambda m: m.group(1), text)
