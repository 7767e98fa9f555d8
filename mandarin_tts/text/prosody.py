"""Symbols with prosody boundaries, in the framing the acoustic model was trained with.

Baker's labels mark #1 (prosodic word), #2 (prosodic phrase), #3 (intonational phrase,
before punctuation) and #4 (sentence end, which training replaced by the final 'sil').
Here: '#0' between syllables of a word, '#1' between words, '#2' at '、', '#3' at other
punctuation (also between sentences of one request: the table has no '#4').
"""

from __future__ import annotations

from mandarin_tts.text.g2p import Pause, Token
from mandarin_tts.text.symbols import EOS, SIL, syllable_symbols

WITHIN_WORD = "#0"
BETWEEN_WORDS = "#1"


def to_symbols(tokens: list[Token]) -> list[str]:
    out = [SIL]
    pending: str | None = None
    for token in tokens:
        if isinstance(token, Pause):
            if len(out) > 1:  # a leading pause has nothing to separate
                pending = max(pending or token.mark, token.mark)
            continue
        if len(out) > 1:
            out.append(pending or BETWEEN_WORDS)
        pending = None
        for i, syllable in enumerate(token.syllables):
            if i:
                out.append(WITHIN_WORD)
            out.extend(syllable_symbols(syllable))
    return [*out, SIL, EOS]
