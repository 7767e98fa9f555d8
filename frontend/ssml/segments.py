"""SSML tree -> speech segments: plain text (with inline pronunciation markup), prosody
multipliers, and the explicit pause after each segment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from frontend.errors import InvalidSsml
from frontend.prosody import Prosody
from frontend.ssml import values
from frontend.ssml.say_as import say_as
from frontend.ssml.tree import Element
from frontend.text_cleanup import clean_user_text
from mandarin_tts.text.inline import InlineMarkupError, mark, parse_syllables

# Attributes any element may carry; SSML processors ignore them here.
_COMMON = ("xml:lang", "xml:base", "xml:id", "xmlns", "id")
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "speak": ("version", "xmlns:xsi", "xsi:schemaLocation"),
    "p": (),
    "s": (),
    "break": ("time", "strength"),
    "prosody": ("rate", "pitch", "volume"),
    "phoneme": ("alphabet", "ph"),
    "sub": ("alias",),
    "say-as": ("interpret-as", "format", "detail"),
    "emphasis": ("level",),
}
ELEMENTS = tuple(ATTRIBUTES)
PHONEME_ALPHABETS = ("py", "pinyin")
_SENTENCE_END = "。！？!?.…"
_BOUNDARY_END = _SENTENCE_END + "，,、；;：:\n"
_SPACES = re.compile(r"\s+")


@dataclass
class SpeechSegment:
    text: str  # plain text with inline pronunciation markup
    speed: float = 1.0
    pitch: float = 1.0
    volume: float = 1.0
    break_after_ms: float | None = None  # an explicit pause after the segment (SSML break)

    @property
    def prosody(self) -> Prosody:
        return Prosody(self.speed, self.pitch, self.volume)

    def ends_at_boundary(self) -> bool:
        """Whether the text ends in punctuation (a natural pause follows it)."""
        return self.text.rstrip(" ")[-1:] in _BOUNDARY_END


class _Walker:
    def __init__(self, max_text_chars: int) -> None:
        self.max_text_chars = max_text_chars
        self.segments: list[SpeechSegment] = []
        self.buffer: list[str] = []
        self.prosody = Prosody()
        self.spoken_chars = 0

    # ------------------------------------------------------------------ output

    def add(self, text: str, visible: int | None = None) -> None:
        self.spoken_chars += len(text) if visible is None else visible
        if self.spoken_chars > self.max_text_chars:
            raise InvalidSsml(
                f"SSML expands to more than {self.max_text_chars} characters of text; "
                "send less text per request"
            )
        self.buffer.append(text)

    def flush(self, break_ms: float | None = None) -> None:
        text = "".join(self.buffer)
        self.buffer = []
        if text.strip():
            p = self.prosody
            self.segments.append(
                SpeechSegment(text.strip(" "), p.speed, p.pitch, p.volume, break_ms)
            )
        elif break_ms is not None and self.segments:
            last = self.segments[-1]  # consecutive breaks add up
            last.break_after_ms = (last.break_after_ms or 0.0) + break_ms
        elif break_ms is not None:
            # A break before any text: an empty segment carries it, and the service turns
            # it into silence before the first speech (as SSML 1.1 and the cloud services do).
            p = self.prosody
            self.segments.append(SpeechSegment("", p.speed, p.pitch, p.volume, break_ms))

    def end_sentence(self, paragraph: bool) -> None:
        """</s> and </p>: the text before ends a sentence (a paragraph), unless a break or
        its own punctuation already says how."""
        mark_text = "\n" if paragraph else ""
        if "".join(self.buffer).strip():
            if "".join(self.buffer).rstrip()[-1:] not in _SENTENCE_END:
                mark_text = "。" + mark_text
            self.buffer.append(mark_text)
        elif self.segments and self.segments[-1].break_after_ms is None:
            last = self.segments[-1]
            if last.text.rstrip()[-1:] not in _SENTENCE_END:
                mark_text = "。" + mark_text
            last.text += mark_text

    # ------------------------------------------------------------------ elements

    def walk(self, element: Element) -> None:
        for child in element.children:
            if isinstance(child, str):
                self.add(_SPACES.sub(" ", clean_user_text(child)))
            else:
                self.element(child)

    def element(self, el: Element) -> None:
        if el.tag not in ATTRIBUTES:
            raise InvalidSsml(f"unsupported element {el.where}; supported: {', '.join(ELEMENTS)}")
        _check_attributes(el)
        if el.tag == "speak":
            raise InvalidSsml(f"{el.where}: <speak> may only be the root element")
        if el.tag in ("p", "s"):
            self.walk(el)
            self.end_sentence(paragraph=el.tag == "p")
        elif el.tag == "break":
            if el.children and "".join(c for c in el.children if isinstance(c, str)).strip():
                raise InvalidSsml(f"{el.where}: <break> must be empty")
            if any(isinstance(c, Element) for c in el.children):
                raise InvalidSsml(f"{el.where}: <break> must be empty")
            self.flush(values.break_ms(el.attrs.get("time"), el.attrs.get("strength"), el.where))
        elif el.tag in ("prosody", "emphasis"):
            self.with_prosody(el, _prosody_of(el))
        elif el.tag == "phoneme":
            self.add(_phoneme(el), len(el.text()))
        elif el.tag == "sub":
            alias = el.attrs.get("alias")
            if alias is None:
                raise InvalidSsml(f"{el.where}: <sub> needs an alias attribute")
            el.text()  # content must be text only
            self.add(_SPACES.sub(" ", clean_user_text(alias)))
        elif el.tag == "say-as":
            kind = el.attrs.get("interpret-as")
            if kind is None:
                raise InvalidSsml(f"{el.where}: <say-as> needs an interpret-as attribute")
            reading = say_as(kind, clean_user_text(el.text()), el.attrs.get("format"), el.where)
            self.add(reading)

    def with_prosody(self, el: Element, change: Prosody) -> None:
        self.flush()
        outer = self.prosody
        self.prosody = outer.times(change)
        self.walk(el)
        self.flush()
        self.prosody = outer


def _check_attributes(el: Element) -> None:
    allowed = ATTRIBUTES[el.tag]
    for name in el.attrs:
        if name in allowed or name in _COMMON or name.startswith("xmlns:"):
            continue
        shown = ", ".join(allowed) or "none"
        raise InvalidSsml(
            f"{el.where}: attribute {name[:40]!r} is not supported (supported: {shown})"
        )


def _prosody_of(el: Element) -> Prosody:
    if el.tag == "emphasis":
        return values.emphasis(el.attrs.get("level"), el.where)
    a = el.attrs
    if not any(k in a for k in ("rate", "pitch", "volume")):
        raise InvalidSsml(f"{el.where}: <prosody> needs rate, pitch or volume")
    return Prosody(
        speed=values.rate(a["rate"], el.where) if "rate" in a else 1.0,
        pitch=values.pitch(a["pitch"], el.where) if "pitch" in a else 1.0,
        volume=values.volume(a["volume"], el.where) if "volume" in a else 1.0,
    )


def _phoneme(el: Element) -> str:
    alphabet = el.attrs.get("alphabet", "py").strip().lower()
    if alphabet not in PHONEME_ALPHABETS:
        raise InvalidSsml(
            f'{el.where}: alphabet={alphabet[:20]!r} is not supported; use alphabet="py" '
            '(toned pinyin such as ph="zeng1 xian1")'
        )
    ph = el.attrs.get("ph")
    if ph is None:
        raise InvalidSsml(f"{el.where}: <phoneme> needs a ph attribute")
    chars = clean_user_text(el.text()).strip()
    if chars and all("\u3400" <= c <= "\u9fff" or c.isspace() for c in chars):
        chars = "".join(chars.split())  # spaces between Chinese characters are layout
    try:
        return mark(chars, parse_syllables(ph, el.where), el.where)
    except InlineMarkupError as error:
        raise InvalidSsml(str(error)) from None


def segments_of(root: Element, max_text_chars: int) -> list[SpeechSegment]:
    if root.tag != "speak":
        raise InvalidSsml(f"the root element is {root.where}; SSML starts with <speak>")
    _check_attributes(root)
    walker = _Walker(max_text_chars)
    walker.walk(root)
    walker.flush()
    return walker.segments
