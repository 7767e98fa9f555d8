"""Incremental segmentation of text that arrives in pieces (an LLM's output over a WebSocket).

`TextSegmenter.feed(delta)` returns the segments that are complete so far: text up to and
including a sentence or clause mark (and the closing quotes and repeated marks after it),
as soon as that mark is known to be one. The rest stays buffered until more text, `flush()`
or the end. A clause is never cut inside unless the buffer grows past `max_chars`
(frontend.chunking.HARD_MAX_CHARS by default); then it is cut where the HTTP chunker would
cut it (word boundaries, never inside a number, URL or English word).

When a mark is "known": the boundaries are those of frontend.chunking's tokenizer, so that
"3.14", "1,000", "12:30" or "www.example.com" never count as a sentence end. A full-width
mark (。，！？…) cannot belong to such an atom and ends a segment at once. An ASCII mark
(. , : ; ! ?) may still be the middle of one ("3." + "14"), so it counts only once a
character that no atom can hold (whitespace, a Chinese character) follows it.
"""

from __future__ import annotations

from dataclasses import dataclass

# The HTTP chunker's own tokenizer and marks: the same atoms and boundaries on both paths.
from frontend.chunking import (
    CLAUSE_PUNCT,
    CLOSERS,
    HARD_MAX_CHARS,
    SENTENCE_PUNCT,
    Pause,
    _Kind,
    _tokenize,
    split_text,
)

# Characters an atom (URL, e-mail, number, English word) may hold: ASCII other than
# whitespace, plus the two non-ASCII ones the chunker's patterns use (don’t, 5‰).
_ATOM_EXTRA = frozenset("’‰")
# Full-width marks and closers that belong to the boundary just before them; dropped from
# the start of the next segment when they arrive after the cut.
_LATE_TRAILERS = frozenset(c for c in SENTENCE_PUNCT | CLAUSE_PUNCT | CLOSERS if not c.isascii())


@dataclass(frozen=True)
class Segment:
    """A piece of the input, exactly as received (whitespace included, so that joining
    segments gives back the input), and the pause its end calls for."""

    text: str
    pause_after: Pause


def _atom_capable(char: str) -> bool:
    return (char.isascii() and not char.isspace()) or char in _ATOM_EXTRA


def _is_speakable(text: str) -> bool:
    return any(char.isalnum() for char in text)


def _boundary(text: str, kind: _Kind) -> Pause | None:
    if kind is _Kind.NEWLINE:
        return Pause.PARAGRAPH
    if kind is _Kind.PUNCT and text in SENTENCE_PUNCT:
        return Pause.SENTENCE
    if kind is _Kind.PUNCT and text in CLAUSE_PUNCT:
        return Pause.CLAUSE
    return None


def _final_pause(text: str) -> Pause:
    """The pause after text that ends without a cut of its own (flushed or forced)."""
    for char in reversed(text.rstrip(" \t\u3000")):
        if char == "\n":
            return Pause.PARAGRAPH
        if char in SENTENCE_PUNCT:
            return Pause.SENTENCE
        if char in CLAUSE_PUNCT:
            return Pause.CLAUSE
        if char not in CLOSERS:
            break
    return Pause.SENTENCE


class TextSegmenter:
    """Buffered text in, complete segments out, in order. Joining the segments' texts gives
    the input, less full-width marks and closers that arrive after the cut they belong to,
    and unspeakable text at the very end."""

    def __init__(self, max_chars: int = HARD_MAX_CHARS) -> None:
        if not 1 <= max_chars <= HARD_MAX_CHARS:
            raise ValueError(f"max_chars must be in 1..{HARD_MAX_CHARS}, got {max_chars}")
        self.max_chars = max_chars
        self._buffer = ""
        self._carry = ""  # unspeakable text cut off, kept for the next segment's start
        self._after_cut = False  # the buffer starts right after a cut

    @property
    def buffered(self) -> str:
        """Text received and not yet in a segment."""
        return self._carry + self._buffer

    def feed(self, delta: str) -> list[Segment]:
        """Add `delta`; the segments it completes."""
        self._buffer += delta.replace("\r\n", "\n").replace("\r", "\n")
        return self._drain(final=False)

    def flush(self) -> list[Segment]:
        """Everything buffered, as the last segments (the client says the text is complete,
        or wants it spoken now)."""
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[Segment]:
        out: list[Segment] = []
        while True:
            if self._after_cut:
                self._strip_trailers()
            cut = self._next_cut(final)
            if cut is None:
                return out
            end, pause = cut
            text, self._buffer = self._buffer[:end], self._buffer[end:]
            self._after_cut = True
            if _is_speakable(text):
                out.append(Segment(self._carry + text, pause))
                self._carry = ""
            elif not final:
                # Spaces and line breaks still separate the words around them.
                self._carry += text

    def _strip_trailers(self) -> None:
        """Drop full-width marks and closers that arrived after the cut of the boundary they
        belong to (a "”" after "。"); ASCII ones may start an atom and stay."""
        keep = 0
        while keep < len(self._buffer) and self._buffer[keep] in _LATE_TRAILERS:
            keep += 1
        self._buffer = self._buffer[keep:]
        if self._buffer:
            self._after_cut = False

    def _settled(self, final: bool) -> int:
        """Where the trailing run that an atom may still extend begins (the end when
        `final`): tokens before it are what they will be whatever text follows."""
        if final:
            return len(self._buffer)
        start = len(self._buffer)
        while start > 0 and _atom_capable(self._buffer[start - 1]):
            start -= 1
        return start

    def _next_cut(self, final: bool) -> tuple[int, Pause] | None:
        """(end, pause) of the next segment, or None to wait for more text."""
        buffer = self._buffer
        if not buffer:
            return None
        settled = self._settled(final)
        tokens = _tokenize(buffer)
        position = 0
        cut: tuple[int, Pause] | None = None
        for index, token in enumerate(tokens):
            position += len(token.text)
            pause = _boundary(token.text, token.kind)
            if pause is None:
                continue
            end = position
            if token.kind is _Kind.NEWLINE and index == len(tokens) - 1 and not final:
                break  # more line breaks may follow: they belong to this one
            for follower in tokens[index + 1 :]:  # repeated marks and closing quotes
                extra = _boundary(follower.text, follower.kind)
                closer = follower.kind is _Kind.PUNCT and follower.text in CLOSERS
                # (Line breaks after a mark start the next segment: where a delta ends
                # must not change where the cut falls.)
                if follower.kind is _Kind.NEWLINE or (extra is None and not closer):
                    break
                pause = max(pause, extra) if extra is not None else pause
                end += len(follower.text)
            if end <= settled:
                cut = (end, pause)
            break
        if cut is not None and cut[0] <= self.max_chars:
            return cut
        limit = cut[0] if cut is not None else len(buffer)
        if limit > self.max_chars:
            return self._forced_cut(settled, final)
        if final:
            return len(buffer), _final_pause(buffer)
        return None

    def _forced_cut(self, settled: int, final: bool) -> tuple[int, Pause] | None:
        """A clause over `max_chars`: cut where the chunker would, within the settled text
        (never inside an atom that is still arriving); hard at `max_chars` only for one
        token longer than that."""
        buffer = self._buffer
        region = buffer[: max(settled, 0)]
        if _is_speakable(region):
            chunks = split_text(region, self.max_chars, hard_max_chars=self.max_chars)
            if chunks:
                first = chunks[0].text
                start = len(region) - len(region.lstrip())
                if region.startswith(first, start):
                    end = start + len(first)
                    if end < len(buffer) or final:
                        return end, Pause.NONE if end < len(buffer) else _final_pause(buffer)
        # One atom longer than a request may be (or text the chunker would not cut at its
        # start): cut hard, as the chunker does, rather than let the buffer grow.
        if len(buffer) - settled > self.max_chars or final or len(buffer) > 2 * self.max_chars:
            return self.max_chars, Pause.NONE
        return None
