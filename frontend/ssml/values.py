"""SSML attribute values -> multipliers and milliseconds (SSML 1.1 forms and cloud keywords)."""

from __future__ import annotations

import math
import re

from frontend.errors import InvalidSsml
from frontend.prosody import Prosody

MAX_BREAK_MS = 10_000.0
# Each prosody attribute, after conversion, must lie within these multipliers (the model's
# speed/pitch ranges, the service's volume range); nested spans are clamped at synthesis.
RATE_RANGE = (0.5, 2.0)
PITCH_RANGE = (0.5, 2.0)
VOLUME_RANGE = (0.0, 2.0)

BREAK_STRENGTH_MS = {
    "none": 0.0,
    "x-weak": 100.0,
    "weak": 220.0,
    "medium": 400.0,
    "strong": 700.0,
    "x-strong": 1000.0,
}
RATE_WORDS = {
    "x-slow": 0.6,
    "slow": 0.8,
    "medium": 1.0,
    "fast": 1.25,
    "x-fast": 1.6,
    "default": 1.0,
}
PITCH_WORDS = {"x-low": 0.8, "low": 0.9, "medium": 1.0, "high": 1.1, "x-high": 1.2, "default": 1.0}
VOLUME_WORDS = {
    "silent": 0.0,
    "x-soft": 0.3,
    "soft": 0.6,
    "medium": 1.0,
    "loud": 1.4,
    "x-loud": 1.8,
    "default": 1.0,
}
# emphasis: a little slower and louder (strong more so), reduced the opposite.
EMPHASIS = {
    "strong": Prosody(speed=0.85, volume=1.3),
    "moderate": Prosody(speed=0.92, volume=1.15),
    "none": Prosody(),
    "reduced": Prosody(speed=1.08, volume=0.8),
}

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_TIME_RE = re.compile(rf"^{_NUMBER}\s*(ms|s)$")
_PERCENT_RE = re.compile(rf"^([+-]?){_NUMBER}\s*%$")
_PLAIN_RE = re.compile(rf"^([+-]?){_NUMBER}$")
_SEMITONES_RE = re.compile(rf"^([+-]){_NUMBER}\s*st$")
_DECIBELS_RE = re.compile(rf"^([+-]){_NUMBER}\s*db$")


def _bad(where: str, name: str, value: str, expected: str) -> InvalidSsml:
    return InvalidSsml(f"{where}: {name}={value[:40]!r} is not valid; use {expected}")


def break_ms(time: str | None, strength: str | None, where: str) -> float:
    """`time` wins over `strength` (SSML 1.1); neither means medium."""
    if time is not None:
        match = _TIME_RE.match(time.strip().lower())
        if match is None:
            raise _bad(where, "time", time, "milliseconds or seconds such as '500ms' or '1.5s'")
        value = float(match.group(1)) * (1.0 if match.group(2) == "ms" else 1000.0)
        if not math.isfinite(value) or value > MAX_BREAK_MS:
            raise InvalidSsml(f"{where}: time={time[:40]!r} is longer than {MAX_BREAK_MS:g} ms")
        return value
    key = (strength or "medium").strip().lower()
    if key not in BREAK_STRENGTH_MS:
        raise _bad(where, "strength", strength or "", ", ".join(BREAK_STRENGTH_MS))
    return BREAK_STRENGTH_MS[key]


def _relative(value: str, words: dict[str, float]) -> float | None:
    """Keyword, '+10%'/'-10%' (relative), '80%' (of the default) or a plain multiplier."""
    text = value.strip().lower()
    if text in words:
        return words[text]
    match = _PERCENT_RE.match(text)
    if match is not None:
        sign, number = match.group(1), float(match.group(2))
        if sign == "+":
            return 1.0 + number / 100.0
        if sign == "-":
            return 1.0 - number / 100.0
        return number / 100.0
    return None


def _in_range(value: float, bounds: tuple[float, float], where: str, name: str, raw: str) -> float:
    if not math.isfinite(value) or not bounds[0] <= value <= bounds[1]:
        raise InvalidSsml(
            f"{where}: {name}={raw[:40]!r} gives {value:.3g} times the default; it must be "
            f"within {bounds[0]:g}..{bounds[1]:g} times ({bounds[0]:.0%}..{bounds[1]:.0%})"
        )
    return value


def rate(value: str, where: str) -> float:
    found = _relative(value, RATE_WORDS)
    if found is None:
        match = _PLAIN_RE.match(value.strip())
        if match is None or match.group(1):
            raise _bad(where, "rate", value, f"{', '.join(RATE_WORDS)}, '80%', '+20%' or '1.2'")
        found = float(match.group(2))
    return _in_range(found, RATE_RANGE, where, "rate", value)


def pitch(value: str, where: str) -> float:
    found = _relative(value, PITCH_WORDS)
    if found is None:
        match = _SEMITONES_RE.match(value.strip().lower())
        if match is None:
            raise _bad(where, "pitch", value, f"{', '.join(PITCH_WORDS)}, '+10%', '-5%' or '+2st'")
        steps = float(match.group(2)) * (1 if match.group(1) == "+" else -1)
        found = 2.0 ** (min(abs(steps), 48.0) * math.copysign(1.0, steps) / 12.0)
    return _in_range(found, PITCH_RANGE, where, "pitch", value)


def volume(value: str, where: str) -> float:
    text = value.strip().lower()
    found = _relative(text, VOLUME_WORDS) if not _PLAIN_RE.match(text) else None
    if found is None:
        decibels = _DECIBELS_RE.match(text)
        plain = _PLAIN_RE.match(text)
        if decibels is not None:
            db = float(decibels.group(2)) * (1 if decibels.group(1) == "+" else -1)
            found = 10.0 ** (max(min(db, 60.0), -60.0) / 20.0)
        elif plain is not None and not plain.group(1):
            found = float(plain.group(2)) / 100.0  # 0..100, 100 = as the request
        elif plain is not None:
            found = 1.0 + float(plain.group(1) + plain.group(2)) / 100.0  # '+10' (Azure)
        else:
            raise _bad(
                where, "volume", value, f"{', '.join(VOLUME_WORDS)}, '+6dB', '-20%' or 0..100"
            )
    return _in_range(found, VOLUME_RANGE, where, "volume", value)


def emphasis(level: str | None, where: str) -> Prosody:
    key = (level or "moderate").strip().lower()
    if key not in EMPHASIS:
        raise _bad(where, "level", level or "", ", ".join(EMPHASIS))
    return EMPHASIS[key]
