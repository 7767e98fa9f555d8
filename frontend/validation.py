"""Request parsing and limits for /v1/tts and the OpenAI-compatible /v1/audio/speech."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from frontend.encoding import AudioFormat
from frontend.errors import InvalidJson, InvalidParameter, TextTooLong
from frontend.synthesis import VoiceParams
from mandarin_tts import contract

VOLUME_RANGE = (0.0, 2.0)
NATIVE_FORMATS = {"wav": AudioFormat.WAV, "flac": AudioFormat.FLAC, "ogg": AudioFormat.OGG}
# OpenAI `response_format` names; mp3 and aac are not produced by this service.
OPENAI_FORMATS = {
    "wav": AudioFormat.WAV,
    "flac": AudioFormat.FLAC,
    "opus": AudioFormat.OPUS,
    "pcm": AudioFormat.PCM,
}


# A client must send its whole body within this time (256 KiB at about 70 kbit/s); one that
# stalls (slow-loris) gets 408 instead of keeping its request open forever.
BODY_READ_TIMEOUT_S = 30.0


# Longest voice/speaker/emotion value a request may send: names are short, and a long value
# is refused before an error message could echo it back.
MAX_NAME_CHARS = 64


@dataclass(frozen=True)
class SynthesisRequest:
    text: str
    params: VoiceParams
    volume: float
    audio_format: AudioFormat
    stream: bool
    # As sent (None = not sent); frontend/voices.py checks them against the installed voices.
    voice: str | None = None
    speaker: str | None = None
    emotion: str | None = None
    # /v1/audio/speech: `voice` may also be one of OpenAI's voice names.
    openai_voice: bool = False


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except RecursionError as error:  # e.g. [[[[...]]]]: the decoder recurses per level
        raise InvalidJson("request body is nested too deeply; send a flat JSON object") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidJson(f"request body is not valid UTF-8 JSON: {error}") from error
    except ValueError as error:  # an integer beyond Python's 4300-digit conversion limit
        raise InvalidJson(
            "request body has a number with thousands of digits; send numbers within range"
        ) from error
    if not isinstance(data, dict):
        raise InvalidJson("request body must be a JSON object")
    return data


def _number(data: dict[str, Any], name: str, default: float, bounds: tuple[float, float]) -> float:
    value = data.get(name, default)
    if value is None:
        value = default
    # Floats only: math.isfinite() of an int beyond float range raises OverflowError.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        raise InvalidParameter(f"'{name}' must be a number in [{bounds[0]}, {bounds[1]}]")
    if not bounds[0] <= value <= bounds[1]:
        shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:20]}... (a huge number)"
        raise InvalidParameter(f"'{name}' is {shown}, outside its range [{bounds[0]}, {bounds[1]}]")
    return float(value)


def _text(data: dict[str, Any], name: str, max_chars: int) -> str:
    text = data.get(name)
    if not isinstance(text, str):
        raise InvalidParameter(f"'{name}' is required and must be a string")
    if not text.strip():
        raise InvalidParameter(f"'{name}' is empty")
    if len(text) > max_chars:
        raise TextTooLong(f"'{name}' has {len(text)} characters; the maximum is {max_chars}")
    # JSON escapes can smuggle in lone surrogates (\ud800) that no UTF-8 encoder accepts.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidParameter(
            f"'{name}' has an unpaired surrogate {text[error.start]!r} at position {error.start}; "
            "send valid Unicode text"
        ) from error
    return text


def _name(data: dict[str, Any], name: str, *, nullable: bool = True) -> str | None:
    """A voice/speaker/emotion field: absent (None; also null where `nullable`) or a string."""
    if name not in data or (nullable and data[name] is None):
        return None
    value = data[name]
    if not isinstance(value, str):
        raise InvalidParameter(f"'{name}' must be a string (a name that GET /v1/voices lists)")
    if not value:  # the documented enum has no "": absent or null is how to ask for the default
        raise InvalidParameter(f"'{name}' is empty; leave it out for the default")
    if len(value) > MAX_NAME_CHARS:
        raise InvalidParameter(
            f"'{name}' has {len(value)} characters; names have at most {MAX_NAME_CHARS} "
            "(GET /v1/voices lists them)"
        )
    return value


def _format(value: Any, table: dict[str, AudioFormat], name: str, default: str) -> AudioFormat:
    value = default if value is None else value
    if not isinstance(value, str) or value.lower() not in table:
        raise InvalidParameter(
            f"'{name}' {value!r} is not supported; supported: {', '.join(sorted(table))}"
        )
    return table[value.lower()]


def _stream(data: dict[str, Any]) -> bool:
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidParameter("'stream' must be true or false")
    return stream


def _output(
    data: dict[str, Any], key: str, table: dict[str, AudioFormat]
) -> tuple[AudioFormat, bool]:
    """The audio format under `key` (default wav) and the stream flag, checked together:
    only some formats can be streamed."""
    fmt = _format(data.get(key), table, key, "wav")
    stream = _stream(data)
    if stream and not fmt.streamable:
        raise InvalidParameter(
            f"streaming supports wav and pcm, not {fmt.value}; set stream to false for {fmt.value}"
        )
    return fmt, stream


def parse_tts_request(data: dict[str, Any], max_chars: int) -> SynthesisRequest:
    """POST /v1/tts: {text, voice, speaker, emotion, speed, pitch, energy, volume, format,
    stream}."""
    text = _text(data, "text", max_chars)
    params = VoiceParams(
        speed=_number(data, "speed", 1.0, contract.SPEED_RANGE),
        pitch=_number(data, "pitch", 1.0, contract.PITCH_RANGE),
        energy=_number(data, "energy", 1.0, contract.ENERGY_RANGE),
    )
    volume = _number(data, "volume", 1.0, VOLUME_RANGE)
    fmt, stream = _output(data, "format", NATIVE_FORMATS)
    return SynthesisRequest(
        text,
        params,
        volume,
        fmt,
        stream,
        voice=_name(data, "voice"),
        speaker=_name(data, "speaker"),
        emotion=_name(data, "emotion"),
    )


def parse_openai_request(data: dict[str, Any], max_chars: int) -> SynthesisRequest:
    """POST /v1/audio/speech: {model, input, voice, response_format, speed} (+ our speaker and
    emotion).  `model` is accepted and ignored; `voice` is an installed voice or one of
    OpenAI's names (an alias of the default voice); a missing response_format means wav."""
    text = _text(data, "input", max_chars)
    if "model" in data and not isinstance(data["model"], str):
        raise InvalidParameter("'model' must be a string")
    voice = _name(data, "voice", nullable=False)
    params = VoiceParams(speed=_number(data, "speed", 1.0, contract.SPEED_RANGE))
    fmt, stream = _output(data, "response_format", OPENAI_FORMATS)
    return SynthesisRequest(
        text,
        params,
        1.0,
        fmt,
        stream,
        voice=voice,
        speaker=_name(data, "speaker"),
        emotion=_name(data, "emotion"),
        openai_voice=True,
    )
