"""A rewrite rule: a regex and a function producing the spoken form of each match."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    speak: Callable[[re.Match[str]], str]

    def apply(self, text: str) -> str:
        return self.pattern.sub(self.speak, text)


def rule(name: str, pattern: str) -> Callable[[Callable[[re.Match[str]], str]], Rule]:
    """Decorator turning a match -> text function into a Rule."""

    def wrap(speak: Callable[[re.Match[str]], str]) -> Rule:
        return Rule(name, re.compile(pattern), speak)

    return wrap


def apply_rules(rules: Sequence[Rule], text: str) -> str:
    for r in rules:
        text = r.apply(text)
    return text


def text_before(match: re.Match[str], width: int) -> str:
    return match.string[max(0, match.start() - width) : match.start()]
