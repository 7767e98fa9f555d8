"""SSML for POST /v1/tts: safe parsing (tree.py), attribute values (values.py), say-as
readings (say_as.py) and the walk to speech segments (segments.py).

    parse_ssml('<speak>你好<break time="500ms"/>世界</speak>')
    -> [SpeechSegment('你好', break_after_ms=500.0), SpeechSegment('世界')]

Every problem is a frontend.errors.InvalidSsml (HTTP 400) naming the element and where it is.
"""

from __future__ import annotations

import re

from frontend.errors import InvalidSsml
from frontend.ssml.say_as import DATE_FORMATS, INTERPRET_AS
from frontend.ssml.segments import ELEMENTS, PHONEME_ALPHABETS, SpeechSegment, segments_of
from frontend.ssml.tree import MAX_DEPTH, MAX_ELEMENTS, parse_tree
from frontend.ssml.values import MAX_BREAK_MS

_SPEAK_START = re.compile(r"<speak[\s>/]|<\?xml[\s?]")
# The document may be this many times longer than the text it speaks (markup).
MARKUP_FACTOR = 4

__all__ = [
    "DATE_FORMATS",
    "ELEMENTS",
    "INTERPRET_AS",
    "MAX_BREAK_MS",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "PHONEME_ALPHABETS",
    "InvalidSsml",
    "SpeechSegment",
    "is_ssml",
    "limits",
    "parse_ssml",
]


def is_ssml(text: str) -> bool:
    """`text` of /v1/tts is SSML when it starts with <speak (or an XML declaration)."""
    head = text.lstrip("\ufeff \t\r\n")
    return _SPEAK_START.match(head) is not None


def parse_ssml(document: str, max_text_chars: int = 20_000) -> list[SpeechSegment]:
    """Speech segments of `document`; raises InvalidSsml (and nothing else) when it is
    malformed, unsafe, too large or uses what this service does not support."""
    root = parse_tree(document.lstrip("\ufeff"), max_text_chars * MARKUP_FACTOR)
    return segments_of(root, max_text_chars)


def limits(max_text_chars: int) -> dict[str, object]:
    """For GET /v1/limits."""
    return {
        "elements": list(ELEMENTS),
        "say_as": list(INTERPRET_AS),
        "date_formats": list(DATE_FORMATS),
        "phoneme_alphabets": list(PHONEME_ALPHABETS),
        "max_document_chars": max_text_chars * MARKUP_FACTOR,
        "max_depth": MAX_DEPTH,
        "max_elements": MAX_ELEMENTS,
        "max_break_ms": MAX_BREAK_MS,
    }
