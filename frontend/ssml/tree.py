"""Safe SSML parsing into a small element tree, with the position of every element.

Expat is driven directly, with handlers that refuse what SSML never needs: a DOCTYPE (and
so any entity declaration: no billion laughs, no external entities), processing
instructions and external references. Limits on size, depth and element count are checked
while parsing, so a hostile document stops at the first violation (a 100k-deep nesting
fails at depth MAX_DEPTH, after reading a few hundred bytes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NoReturn
from xml.parsers import expat

from frontend.errors import InvalidSsml

MAX_DEPTH = 32
MAX_ELEMENTS = 2_000
_DTD_RE = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    line: int
    column: int  # 1-based
    children: list[Element | str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"<{self.tag}> at line {self.line}, column {self.column}"

    def text(self) -> str:
        """The element's text; child elements are refused (phoneme, sub, say-as take text)."""
        parts = []
        for child in self.children:
            if isinstance(child, Element):
                raise InvalidSsml(
                    f"{child.where}: {self.where} may contain only text, not elements"
                )
            parts.append(child)
        return "".join(parts)


def _refuse(message: str) -> NoReturn:
    raise InvalidSsml(message)


class _Builder:
    def __init__(self, parser: expat.XMLParserType) -> None:
        self.parser = parser
        self.stack: list[Element] = []
        self.root: Element | None = None
        self.count = 0

    def _at(self) -> str:
        return f"line {self.parser.CurrentLineNumber}, column {self.parser.CurrentColumnNumber + 1}"

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.count += 1
        if self.count > MAX_ELEMENTS:
            _refuse(f"SSML has more than {MAX_ELEMENTS} elements (at {self._at()})")
        if len(self.stack) >= MAX_DEPTH:
            _refuse(f"SSML is nested deeper than {MAX_DEPTH} elements (at {self._at()})")
        element = Element(
            tag,
            dict(attrs),
            self.parser.CurrentLineNumber,
            self.parser.CurrentColumnNumber + 1,
        )
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
        self.stack.append(element)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        if self.stack:
            children = self.stack[-1].children
            if children and isinstance(children[-1], str):
                children[-1] += text  # expat delivers text in pieces
            else:
                children.append(text)
        elif text.strip():
            _refuse(f"text outside <speak> at {self._at()}")

    def doctype(self, *_: object) -> None:
        _refuse(f"SSML must not have a DOCTYPE (DTDs and entities are refused), at {self._at()}")

    def entity(self, *_: object) -> None:
        _refuse(f"SSML must not declare entities, at {self._at()}")

    def instruction(self, target: str, _data: str) -> None:
        _refuse(
            f"SSML must not have processing instructions (<?{target[:20]} ...?>), at {self._at()}"
        )

    def external(self, *_: object) -> int:
        _refuse(f"SSML must not reference external entities, at {self._at()}")


def parse_tree(document: str, max_chars: int) -> Element:
    """The root element of `document`; InvalidSsml for anything malformed or unsafe."""
    if len(document) > max_chars:
        _refuse(f"SSML has {len(document)} characters; the maximum is {max_chars}")
    found = _DTD_RE.search(document)
    if found is not None:
        line = document.count("\n", 0, found.start()) + 1
        column = found.start() - (document.rfind("\n", 0, found.start()) + 1) + 1
        _refuse(
            f"SSML must not have a DTD (<!{found.group(1).upper()} at line {line}, column "
            f"{column}); entities and external references are refused"
        )
    try:
        raw = document.encode("utf-8")
    except UnicodeEncodeError as error:
        _refuse(f"SSML has an unpaired surrogate at position {error.start}; send valid Unicode")
    parser = expat.ParserCreate(encoding="utf-8")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    builder = _Builder(parser)
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = builder.doctype
    parser.EntityDeclHandler = builder.entity
    parser.UnparsedEntityDeclHandler = builder.entity
    parser.ProcessingInstructionHandler = builder.instruction
    parser.ExternalEntityRefHandler = builder.external
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as error:
        message = expat.ErrorString(error.code) if error.code is not None else str(error)
        raise InvalidSsml(
            f"SSML is not well-formed XML: {message} at line {error.lineno}, "
            f"column {error.offset + 1}"
        ) from None
    except RecursionError:  # defensive: the depth limit stops nesting long before this
        _refuse("SSML is nested too deeply")
    if builder.root is None:
        _refuse("SSML has no root element; wrap the text in <speak>...</speak>")
    return builder.root
