"""The text frontend facade: raw request text -> symbol ids for the acoustic model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mandarin_tts.contract import AC_MAX_SYMBOLS, TEXT_MAX_CHARS
from mandarin_tts.text.alignment import SymbolAlignment, align_symbols
from mandarin_tts.text.g2p import G2P, Token, Word
from mandarin_tts.text.inline import InlineMarkupError, Span, split_inline
from mandarin_tts.text.lexicon import Lexicon, LexiconFile, lexicon_from_env
from mandarin_tts.text.normalize import normalize_text
from mandarin_tts.text.prosody import to_symbols
from mandarin_tts.text.sandhi import apply_sandhi
from mandarin_tts.text.symbols import symbols_to_ids


class TextFrontendError(ValueError):
    """The request text cannot be synthesized; the message says what to change."""


@dataclass(frozen=True)
class FrontendResult:
    ids: np.ndarray  # int64 [T]: sil ... sil eos, ready for the acoustic model
    normalized: str  # normalized Chinese text
    phonemes: str  # the symbols of `ids`, space-separated
    pinyin: tuple[str, ...]  # toned syllables after sandhi ('huar1' for erhua)
    # Which spoken character each symbol of `ids` belongs to (timestamps).
    alignment: SymbolAlignment = field(default_factory=lambda: SymbolAlignment((), (), ()))


def decode_request_text(raw: bytes, name: str = "TEXT") -> str:
    """UTF-8 bytes of a request's `name` input -> str; invalid bytes raise TextFrontendError."""
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TextFrontendError(
            f"{name} is not valid UTF-8 (byte {exc.start}: {exc.reason}); send UTF-8 encoded text"
        ) from None


# Normalization drops punctuation at the start of a text; after a span it is a real pause,
# so a run that follows one is normalized behind this character, which is then removed.
_SENTINEL = "啊"


def _normalize_after(run: str) -> str:
    normalized = normalize_text(_SENTINEL + run)
    return normalized[1:] if normalized.startswith(_SENTINEL) else normalized


def tokens_of(text: str, g2p: G2P, lexicon: Lexicon | None = None) -> tuple[list[Token], str]:
    """(G2P tokens after sandhi, normalized text) of `text` with inline pronunciation spans:
    plain runs are normalized and converted (file-lexicon words first become spans), each
    span is one word read exactly as given."""
    if lexicon is not None:
        text = lexicon.apply(text)
    try:
        pieces = split_inline(text)
    except InlineMarkupError as error:
        raise TextFrontendError(str(error)) from None
    tokens: list[Token] = []
    normalized: list[str] = []
    for piece in pieces:
        if isinstance(piece, Span):
            tokens.append(Word(piece.chars, list(piece.syllables), fixed=True))
            normalized.append(piece.chars)
            continue
        run = _normalize_after(piece) if tokens else normalize_text(piece)
        normalized.append(run)
        if run:  # also punctuation alone: it marks a pause next to a span
            tokens.extend(g2p.convert(run))
    apply_sandhi(tokens, g2p.is_word)
    return tokens, "".join(normalized)


@dataclass(frozen=True)
class FrontendLimits:
    max_chars: int = TEXT_MAX_CHARS  # raw code points, checked before any work
    max_symbols: int = AC_MAX_SYMBOLS  # what the acoustic model is built for


class TextFrontend:
    """Load once (jieba's dictionary takes about a second), then call `encode` per request."""

    def __init__(
        self, limits: FrontendLimits | None = None, lexicon: LexiconFile | None = None
    ) -> None:
        self.limits = limits or FrontendLimits()
        self._g2p = G2P()
        # The deployment lexicon (MANDARIN_TTS_LEXICON) unless one is given.
        self._lexicon = lexicon if lexicon is not None else lexicon_from_env()

    def encode(self, text: str) -> FrontendResult:
        if not isinstance(text, str):
            raise TextFrontendError(f"TEXT must be a string, got {type(text).__name__}")
        if len(text) > self.limits.max_chars:
            raise TextFrontendError(
                f"TEXT has {len(text)} characters; one request takes at most "
                f"{self.limits.max_chars}. Split it into sentences (the HTTP frontend does this)."
            )
        if not text.strip():
            raise TextFrontendError("TEXT is empty; send at least one Chinese character")
        lexicon = self._lexicon.current() if self._lexicon is not None else None
        tokens, normalized = tokens_of(text, self._g2p, lexicon)
        words = [t for t in tokens if isinstance(t, Word)]
        if not words:
            raise TextFrontendError(
                "TEXT has nothing speakable (only punctuation, emoji, symbols or unsupported "
                "scripts); send Chinese text, numbers or Latin letters"
            )
        symbols = to_symbols(tokens)
        if len(symbols) > self.limits.max_symbols:
            raise TextFrontendError(
                f"TEXT expands to {len(symbols)} symbols; the acoustic model takes at most "
                f"{self.limits.max_symbols} (about 80 Chinese characters). Split it into "
                "shorter sentences."
            )
        return FrontendResult(
            ids=np.asarray(symbols_to_ids(symbols), dtype=np.int64),
            normalized=normalized,
            phonemes=" ".join(symbols),
            pinyin=tuple(s for w in words for s in w.syllables),
            alignment=align_symbols(tokens, symbols),
        )
