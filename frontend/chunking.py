"""Split long text into short chunks that Triton can batch, keeping the pause type of each boundary.

Order of preference for a boundary: sentence punctuation (and paragraph breaks), then clause
punctuation, then word boundaries (spaces and jieba words).  Numbers, dates, times, English
words, URLs and e-mail addresses are atoms: a boundary never falls inside them.  Only an
atom longer than the hard limit (what one Triton request accepts) is cut, as a last resort.

Characters only estimate what the model receives: a digit, a Latin letter spelled out or a
URL can expand to many more symbols than a Chinese character.  Given the voice's text
frontend (`measure`), every chunk is encoded exactly as Triton will encode it and any chunk
over the model's input limit is split again, at a smaller boundary and finally inside a
token, until every piece fits.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from frontend.prosody import NEUTRAL, Prosody
from mandarin_tts import contract
from mandarin_tts.text.inline import SPAN_PATTERN, visible_text

# A chunk must stay below what one Triton request accepts: TEXT_MAX_CHARS code points, and
# its symbols must fit AC_MAX_SYMBOLS (about 3 symbols per Chinese character; `measure`
# checks the real count).
HARD_MAX_CHARS: int = min(contract.TEXT_MAX_CHARS - 1, contract.AC_MAX_SYMBOLS // 3)
# Chosen by measurement (benchmarks/micro/chunking.py, docs/frontend.md): on the cpu-2 tier 30
# beat 50 on both first audio and total time (less padding inside Triton batches).
DEFAULT_MAX_CHARS = 30
# No smaller first chunk by default: a sentence of up to 30 characters is spoken whole. On 60
# dev sentences (docs/quality.md) a 15-character first chunk cost 0.10 DNSMOS OVRL against
# whole sentences, and long texts already start with a short clause where they have one.
DEFAULT_FIRST_MAX_CHARS = DEFAULT_MAX_CHARS


class Pause(enum.IntEnum):
    """What kind of boundary follows a chunk; assembly maps it to a silence length."""

    NONE = 0  # cut at a word boundary inside a clause
    SHORT = 1  # enumeration comma 、
    CLAUSE = 2  # ，,：:；; and dashes
    SENTENCE = 3  # 。！？.!?…
    PARAGRAPH = 4  # blank line / line break


@dataclass(frozen=True)
class Chunk:
    text: str
    pause_after: Pause
    # An explicit silence after the chunk (an SSML break), in ms; it replaces the pause of
    # `pause_after` and is not scaled by the speed.
    pause_ms: float | None = None
    # SSML prosody of this chunk, on top of the request's speed/pitch/volume.
    prosody: Prosody = NEUTRAL
    # Silence before the chunk, in ms: an SSML break before any text (first chunk only).
    lead_ms: float = 0.0


# Model input units of a text (the voice's text frontend, after normalization); raises
# ValueError for text the voice cannot encode at all.
Measure = Callable[[str], int]


class UnencodableText(ValueError):
    """A chunk the voice's text frontend refuses even in its smallest pieces."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{text!r}: {reason}")
        self.text = text
        self.reason = reason


SENTENCE_PUNCT = frozenset("。！？!?…．.")
CLAUSE_PUNCT = frozenset("，,：:；;—～~")
SHORT_PUNCT = frozenset("、")
# Closing quotes/brackets stay with the sentence they close.
CLOSERS = frozenset("”’」』）)】》〉\"'")

_ATOM_PATTERNS = [
    SPAN_PATTERN,  # an inline pronunciation span (mandarin_tts/text/inline.py) stays whole
    r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*[A-Za-z0-9/#=_\-~%&]",  # URL
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",  # e-mail
    r"\d{1,4}年(?:\d{1,2}月(?:\d{1,2}[日号])?)?|\d{1,2}月\d{1,2}[日号]",  # Chinese date
    r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*(?:['’\-.][A-Za-z0-9]*[A-Za-z0-9])*",  # English word, COVID-19
    r"\d+(?:[.,:/\-]\d+)*(?:%|‰)?",  # numbers, 1,000, 3.14, 2023-05-01, 12:30, 50%
]
_TOKEN_RE = re.compile(
    "|".join(f"(?P<atom{i}>{p})" for i, p in enumerate(_ATOM_PATTERNS))
    + r"|(?P<newline>\n+)|(?P<space>[ \t\u3000]+)|(?P<cjk>[\u3400-\u9fff\uf900-\ufaff]+)|(?P<other>.)",
    re.DOTALL,
)


class _Kind(enum.Enum):
    ATOM = "atom"  # protected span, never split (unless over the hard limit)
    CJK = "cjk"  # run of Chinese characters, split into jieba words at the last level
    SPACE = "space"
    NEWLINE = "newline"
    PUNCT = "punct"


@dataclass(frozen=True)
class _Token:
    text: str
    kind: _Kind


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN_RE.finditer(text):
        group = match.lastgroup or "other"
        if group.startswith("atom"):
            kind = _Kind.ATOM
        elif group == "cjk":
            kind = _Kind.CJK
        elif group == "space":
            kind = _Kind.SPACE
        elif group == "newline":
            kind = _Kind.NEWLINE
        else:
            kind = _Kind.PUNCT
        tokens.append(_Token(match.group(), kind))
    return tokens


def _is_speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _text_of(tokens: Iterable[_Token]) -> str:
    return "".join(t.text for t in tokens)


def _split_after(
    tokens: list[_Token], boundary: Callable[[_Token], Pause | None], last_pause: Pause
) -> list[tuple[list[_Token], Pause]]:
    """Cut after every token that `boundary` maps to a pause (closing quotes stay attached);
    the final unit, if it has no boundary of its own, gets `last_pause`."""
    units: list[tuple[list[_Token], Pause]] = []
    current: list[_Token] = []
    pending: Pause | None = None
    for token in tokens:
        if pending is not None and not (token.kind is _Kind.PUNCT and token.text in CLOSERS):
            # Repeated marks (。。, ？！, ……) extend the boundary instead of starting a unit.
            extra = boundary(token) if token.kind in (_Kind.PUNCT, _Kind.NEWLINE) else None
            if extra is not None:
                current.append(token)
                pending = max(pending, extra)
                continue
            units.append((current, pending))
            current, pending = [], None
        current.append(token)
        found = boundary(token)
        if found is not None:
            pending = found if pending is None else max(pending, found)
    if current:
        units.append((current, pending if pending is not None else last_pause))
    return units


def _sentence_boundary(token: _Token) -> Pause | None:
    if token.kind is _Kind.NEWLINE:
        return Pause.PARAGRAPH
    if token.kind is _Kind.PUNCT and token.text in SENTENCE_PUNCT:
        return Pause.SENTENCE
    return None


def _clause_boundary(token: _Token) -> Pause | None:
    if token.kind is _Kind.PUNCT and token.text in CLAUSE_PUNCT:
        return Pause.CLAUSE
    if token.kind is _Kind.PUNCT and token.text in SHORT_PUNCT:
        return Pause.SHORT
    return None


@lru_cache(maxsize=1)
def _jieba_cut() -> Callable[[str], list[str]]:
    try:
        import jieba

        jieba.setLogLevel(60)  # silence the dictionary-loading banner
        return jieba.lcut
    except ImportError:  # pragma: no cover - jieba is a declared dependency
        return list


def warm_up() -> None:
    """Load jieba's dictionary now (about 1-2 s) rather than inside the first long request."""
    _jieba_cut()("预热词典")


def _words(tokens: list[_Token]) -> list[_Token]:
    """Word-level tokens: Chinese runs cut with jieba, everything else unchanged."""
    out: list[_Token] = []
    for token in tokens:
        if token.kind is _Kind.CJK and len(token.text) > 1:
            out.extend(_Token(w, _Kind.CJK) for w in _jieba_cut()(token.text))
        else:
            out.append(token)
    return out


def _hard_cut(token: _Token, limit: int) -> list[_Token]:
    return [_Token(token.text[i : i + limit], token.kind) for i in range(0, len(token.text), limit)]


_LINE_BREAK_RE = re.compile(r"(.)?[ \t\u3000]*\n\s*(.)?", re.DOTALL)


def _join_lines(match: re.Match[str]) -> str:
    """A line break inside a chunk becomes a space between Western words, else nothing."""
    before, after = match.group(1) or "", match.group(2) or ""
    western = before.isascii() and before.isalnum() and after.isascii() and after.isalnum()
    return before + (" " if western else "") + after


def _length(tokens: list[_Token]) -> int:
    """Characters a reader sees: an inline reading span counts as its characters, not its
    markup and pinyin (the limits are about how much is read, not how it is spelled)."""
    return len(visible_text(_text_of(tokens)).strip())


def _greedy(words: list[_Token], limit: int) -> list[list[_Token]]:
    """Words packed in order into pieces of at most `limit` characters; punctuation never
    starts a piece. A longer word or atom is a piece of its own, cut only beyond
    HARD_MAX_CHARS (the last resort; the voice's measure splits it further if needed)."""
    pieces: list[list[_Token]] = []
    current: list[_Token] = []
    for word in words:
        if _length(current + [word]) <= limit or (current and not _is_speakable(word.text)):
            current.append(word)  # (punctuation stays with the word before it)
            continue
        if current:
            pieces.append(current)
            current = []
        if _length([word]) <= HARD_MAX_CHARS:
            current = [word]  # (an inline span is at most MAX_SPAN_CHARS: never cut here)
        else:
            *whole, current = [[piece] for piece in _hard_cut(word, HARD_MAX_CHARS)]
            pieces.extend(whole)
    if current:
        pieces.append(current)
    return pieces


def _even_pieces(words: list[_Token], hard_max_chars: int) -> list[list[_Token]]:
    """A clause over the hard limit cut at word boundaries into as few pieces as fit, as even
    as the words allow (no short tail read on its own)."""
    total = _length(words)
    count = -(-total // hard_max_chars)
    for limit in range(-(-total // count), hard_max_chars + 1):
        pieces = _greedy(words, limit)
        if len(pieces) <= count:
            return pieces
    return _greedy(words, hard_max_chars)


class _Packer:
    """Packs each sentence's clauses into chunks.

    A sentence within the soft limit is one chunk. A longer one is cut only at its clause
    punctuation, whole clauses packed up to the soft limit; a clause over the soft limit stays
    whole up to the hard limit, and only a clause over the hard limit is cut inside, at word
    boundaries. The first chunk's lower limit applies only where the text gives a clause
    boundary within it: a long first clause is never cut to shorten time to first audio.
    """

    def __init__(self, max_chars: int, first_max_chars: int, hard_max_chars: int) -> None:
        self.max_chars = max_chars
        self.first_max_chars = first_max_chars
        self.hard_max_chars = hard_max_chars
        self.chunks: list[Chunk] = []

    @property
    def limit(self) -> int:
        return self.first_max_chars if not self.chunks else self.max_chars

    def emit(self, tokens: list[_Token], pause: Pause) -> None:
        text = _LINE_BREAK_RE.sub(_join_lines, _text_of(tokens).strip())
        if not text:
            return
        if not _is_speakable(text):
            # Punctuation-only leftovers ride on the previous chunk (or vanish at the start).
            # (Trailing punctuation may overrun the soft limit, never the hard one.)
            if self.chunks:
                last = self.chunks[-1]
                merged = (last.text + text)[: max(self.hard_max_chars, len(last.text))]
                self.chunks[-1] = Chunk(merged, max(last.pause_after, pause))
            return
        self.chunks.append(Chunk(text, pause))

    def add_sentence(self, tokens: list[_Token], pause: Pause) -> None:
        clauses = _split_after(tokens, _clause_boundary, pause)
        whole = _length(tokens)
        if whole <= self.limit or (len(clauses) == 1 and whole <= self.hard_max_chars):
            self.emit(tokens, pause)
            return
        current: list[_Token] = []
        current_pause = Pause.NONE
        for clause, clause_pause in clauses:
            if current and _length(current + clause) > self.limit:
                self.emit(current, current_pause)
                current = []
            if current or _length(clause) <= self.hard_max_chars:
                current, current_pause = current + clause, clause_pause
                continue
            *pieces, current = _even_pieces(_words(clause), self.hard_max_chars)
            for piece in pieces:
                self.emit(piece, Pause.NONE)
            current_pause = clause_pause
        self.emit(current, current_pause)


def split_text(
    text: str,
    max_chars: int = DEFAULT_MAX_CHARS,
    first_max_chars: int | None = None,
    *,
    measure: Measure | None = None,
    max_units: int = contract.AC_MAX_SYMBOLS,
    hard_max_chars: int = HARD_MAX_CHARS,
) -> list[Chunk]:
    """Split `text` into chunks of whole clauses packed up to `max_chars` characters (the
    first up to `first_max_chars`, to shorten time to first audio, where a clause boundary
    allows); a clause is cut inside only when it exceeds `hard_max_chars`.  Returns [] when
    nothing is speakable.

    With `measure`, every chunk also has at most `max_units` model input units (split
    further where needed); a chunk that cannot be encoded raises UnencodableText.
    """
    if not 1 <= max_chars <= HARD_MAX_CHARS:
        raise ValueError(f"max_chars must be in 1..{HARD_MAX_CHARS}, got {max_chars}")
    if not 1 <= hard_max_chars <= HARD_MAX_CHARS:
        raise ValueError(f"hard_max_chars must be in 1..{HARD_MAX_CHARS}, got {hard_max_chars}")
    max_chars = min(max_chars, hard_max_chars)
    first = max_chars if first_max_chars is None else min(first_max_chars, max_chars)
    if first < 1:
        raise ValueError("first_max_chars must be >= 1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    packer = _Packer(max_chars, first, hard_max_chars)
    for sentence, pause in _split_after(_tokenize(text), _sentence_boundary, Pause.SENTENCE):
        packer.add_sentence(sentence, pause)
    if measure is None:
        return packer.chunks
    fitted: list[Chunk] = []
    for chunk in packer.chunks:
        try:
            fitted.extend(_fit(chunk, measure, max_units))
        except UnencodableText as error:  # name the chunk the client can find in its text
            raise UnencodableText(chunk.text, error.reason) from None
    return fitted


def _misfit(text: str, measure: Measure, max_units: int) -> str | None:
    """Why `text` cannot be one model request, or None if it can."""
    try:
        units = measure(text)
    except ValueError as error:  # the voice's own message (e.g. too many symbols)
        return str(error)
    if units > max_units:
        return f"it expands to {units} model input units; the voice takes at most {max_units}"
    return None


def _fit(chunk: Chunk, measure: Measure, max_units: int) -> list[Chunk]:
    """`chunk`, or its pieces, each of which the voice encodes within `max_units`."""
    reason = _misfit(chunk.text, measure, max_units)
    if reason is None:
        return [chunk]
    pieces = _smaller(chunk)
    if len(pieces) < 2:
        raise UnencodableText(chunk.text, reason)
    return [fitted for piece in pieces for fitted in _fit(piece, measure, max_units)]


def _smaller(chunk: Chunk) -> list[Chunk]:
    """Two or more shorter chunks of `chunk`: at the best boundaries within half its length,
    else (one unbreakable token) cut near the middle; [] for a single character."""
    text = chunk.text
    if len(text) < 2:
        return []
    half = min(max(1, len(text) // 2), HARD_MAX_CHARS)
    pieces = split_text(text, half, hard_max_chars=half)
    if len(pieces) < 2:
        pieces = _cut_in_two(text)
    if len(pieces) < 2:
        return []
    return [*pieces[:-1], Chunk(pieces[-1].text, chunk.pause_after)]


def _cut_in_two(text: str) -> list[Chunk]:
    """The cut nearest the middle that leaves something speakable on both sides."""
    middle = len(text) // 2
    # Never inside an inline reading span: its markup must reach the text model whole.
    inside = {i for m in re.finditer(SPAN_PATTERN, text) for i in range(m.start() + 1, m.end())}
    for offset in range(len(text)):
        for cut in (middle - offset, middle + offset):
            if 0 < cut < len(text) and cut not in inside:
                left, right = text[:cut].strip(), text[cut:].strip()
                if _is_speakable(left) and _is_speakable(right):
                    return [Chunk(left, Pause.NONE), Chunk(right, Pause.NONE)]
    return []
