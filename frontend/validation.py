"""Request parsing and limits for /v1/tts and the OpenAI-compatible /v1/audio/speech."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from frontend.encoding import SAMPLE_RATES, AudioFormat
from frontend.errors import InvalidJson, InvalidParameter, TextTooLong
from frontend.ssml import is_ssml
from frontend.synthesis import VoiceParams
from mandarin_tts import contract
from mandarin_tts.text.lexicon import Lexicon, LexiconError
from mandarin_tts.text.lexicon import from_mapping as lexicon_from_mapping

VOLUME_RANGE = (0.0, 2.0)
# Most per-request lexicon entries (/v1/tts `lexicon`).
MAX_LEXICON_ENTRIES = 100
NATIVE_FORMATS = {
    "wav": AudioFormat.WAV,
    "pcm": AudioFormat.PCM,
    "flac": AudioFormat.FLAC,
    "mp3": AudioFormat.MP3,
    "ogg_opus": AudioFormat.OGG_OPUS,
    "mulaw": AudioFormat.MULAW,
    "alaw": AudioFormat.ALAW,
    # Older names, kept: `ogg` is OGG Vorbis, `opus` the OpenAI route's name of ogg_opus.
    "ogg": AudioFormat.OGG,
    "opus": AudioFormat.OGG_OPUS,
}
# OpenAI `response_format` names (OpenAI's default is mp3).
OPENAI_FORMATS = {
    "mp3": AudioFormat.MP3,
    "opus": AudioFormat.OGG_OPUS,
    "aac": AudioFormat.AAC,
    "flac": AudioFormat.FLAC,
    "wav": AudioFormat.WAV,
    "pcm": AudioFormat.PCM,
}
OPENAI_DEFAULT_FORMAT = "mp3"
# OpenAI's audio is 24 kHz (its `pcm` is defined as 24 kHz s16le); the route delivers every
# format at that rate unless `sample_rate` asks for another.
OPENAI_SAMPLE_RATE = 24_000
# OpenAI's accepted `speed`; outside the model's contract.SPEED_RANGE it is clamped.
OPENAI_SPEED_RANGE = (0.25, 4.0)
OPENAI_STREAM_FORMATS = ("audio", "sse")


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
    # Delivered sample rate as asked (None = the format's default for the voice).
    sample_rate: int | None = None
    # /v1/audio/speech: stream_format "sse" (base64 audio in speech.audio.delta events).
    sse: bool = False
    # /v1/audio/speech: the speed sent, where it was clamped into contract.SPEED_RANGE.
    speed_requested: float | None = None
    # /v1/audio/speech: OpenAI's `instructions` (accepted; this model has no such control).
    instructions: str | None = None
    # /v1/tts: the SSML document (frontend/ssml), then `text` is the same document.
    ssml: str | None = None
    # /v1/tts: the request's own pronunciations, applied before the deployment lexicon.
    lexicon: Lexicon | None = None
    # /v1/tts: a JSON answer with per-character times (frontend/timestamps.py), and
    # sentence subtitles in it ("srt" or "vtt"; implies timestamps).
    timestamps: bool = False
    subtitles: str | None = None


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
        raise InvalidParameter(
            f"'{name}' must be a number in [{bounds[0]}, {bounds[1]}]", param=name
        )
    if not bounds[0] <= value <= bounds[1]:
        shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:20]}... (a huge number)"
        raise InvalidParameter(
            f"'{name}' is {shown}, outside its range [{bounds[0]}, {bounds[1]}]", param=name
        )
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
        shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:20]}..."
        raise InvalidParameter(
            f"'{name}' {shown} is not supported; supported: {', '.join(sorted(table))}",
            param=name,
        )
    return table[value.lower()]


def _stream(data: dict[str, Any], default: bool = False) -> bool:
    stream = data.get("stream", default)
    if stream is None:
        return default
    if not isinstance(stream, bool):
        raise InvalidParameter("'stream' must be true or false", param="stream")
    return stream


def _sample_rate(data: dict[str, Any], fmt: AudioFormat, name: str) -> int | None:
    """`sample_rate`: absent or null (the format's default), else one the format can carry."""
    rate = data.get("sample_rate")
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, int) or rate not in SAMPLE_RATES:
        shown = repr(rate) if len(repr(rate)) <= 40 else f"{repr(rate)[:20]}..."
        raise InvalidParameter(
            f"'sample_rate' {shown} is not supported; supported: "
            f"{', '.join(map(str, SAMPLE_RATES))} (Hz)",
            param="sample_rate",
        )
    if rate not in fmt.rates:
        raise InvalidParameter(
            f"'sample_rate' {rate} is not supported by {name}; it takes "
            f"{', '.join(map(str, fmt.rates))} (Opus codes only 8, 12, 16, 24 and 48 kHz)",
            param="sample_rate",
        )
    return rate


def _streamable_names(table: dict[str, AudioFormat]) -> str:
    return ", ".join(sorted(name for name, fmt in table.items() if fmt.streamable))


def _output(
    data: dict[str, Any],
    key: str,
    table: dict[str, AudioFormat],
    default: str = "wav",
    stream_default: bool = False,
) -> tuple[AudioFormat, bool, int | None]:
    """The audio format under `key`, the stream flag and the sample rate, checked together:
    only some formats can be streamed, and Opus takes only some rates."""
    fmt = _format(data.get(key), table, key, default)
    name = str(data.get(key) or default).lower()
    stream = _stream(data, stream_default and fmt.streamable)
    if stream and not fmt.streamable:
        raise InvalidParameter(
            f"{name} cannot be streamed (its header needs the finished file); streamable: "
            f"{_streamable_names(table)}; set stream to false for {name}",
            param="stream",
        )
    return fmt, stream, _sample_rate(data, fmt, name)


def parse_tts_request(data: dict[str, Any], max_chars: int) -> SynthesisRequest:
    """POST /v1/tts: {text, voice, speaker, emotion, speed, pitch, energy, volume, format,
    stream}."""
    ssml = _ssml(data, max_chars)
    text = ssml if ssml is not None else _text(data, "text", max_chars)
    params = VoiceParams(
        speed=_number(data, "speed", 1.0, contract.SPEED_RANGE),
        pitch=_number(data, "pitch", 1.0, contract.PITCH_RANGE),
        energy=_number(data, "energy", 1.0, contract.ENERGY_RANGE),
    )
    volume = _number(data, "volume", 1.0, VOLUME_RANGE)
    fmt, stream, sample_rate = _output(data, "format", NATIVE_FORMATS)
    timestamps, subtitles = _timestamps(data)
    if timestamps and stream:
        raise InvalidParameter(
            "'timestamps' and 'subtitles' are not supported with streaming (the JSON answer "
            "carries the whole audio); set stream to false, or use GET /v1/tts/ws, whose "
            "segment events carry times",
            param="stream",
        )
    return SynthesisRequest(
        text,
        params,
        volume,
        fmt,
        stream,
        voice=_name(data, "voice"),
        speaker=_name(data, "speaker"),
        emotion=_name(data, "emotion"),
        sample_rate=sample_rate,
        ssml=ssml,
        lexicon=_lexicon(data),
        timestamps=timestamps,
        subtitles=subtitles,
    )


SUBTITLE_FORMATS = ("srt", "vtt")


def _timestamps(data: dict[str, Any]) -> tuple[bool, str | None]:
    """(timestamps wanted, subtitle format or None); subtitles imply timestamps."""
    wanted = data.get("timestamps", False)
    if wanted is None:
        wanted = False
    if not isinstance(wanted, bool):
        raise InvalidParameter("'timestamps' must be true or false", param="timestamps")
    subtitles = data.get("subtitles")
    if subtitles is None:
        return wanted, None
    if not isinstance(subtitles, str) or subtitles.lower() not in SUBTITLE_FORMATS:
        shown = repr(subtitles)[:40]
        raise InvalidParameter(
            f"'subtitles' {shown} is not supported; supported: {', '.join(SUBTITLE_FORMATS)}",
            param="subtitles",
        )
    return True, subtitles.lower()


def _ssml(data: dict[str, Any], max_chars: int) -> str | None:
    """The SSML document: the `ssml` field, or a `text` that starts with <speak."""
    # The body limit bounds the document; its own size limit is the SSML parser's (a 400
    # invalid_ssml, as for every other unsafe document).
    unbounded = 1 << 62
    if data.get("ssml") is None:
        text = data.get("text")
        if isinstance(text, str) and is_ssml(text):
            return _text(data, "text", unbounded)
        return None
    if data.get("text") is not None:
        raise InvalidParameter("send either 'text' or 'ssml', not both", param="ssml")
    return _text(data, "ssml", unbounded)


def _lexicon(data: dict[str, Any]) -> Lexicon | None:
    """Per-request pronunciations {"word": "toned pinyin", ...}, at most MAX_LEXICON_ENTRIES."""
    value = data.get("lexicon")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidParameter(
            """'lexicon' must be an object of word: toned pinyin, e.g. {"曾": "zeng1"}""",
            param="lexicon",
        )
    if len(value) > MAX_LEXICON_ENTRIES:
        raise InvalidParameter(
            f"'lexicon' has {len(value)} entries; at most {MAX_LEXICON_ENTRIES}", param="lexicon"
        )
    try:
        return lexicon_from_mapping(value.items(), "'lexicon'")
    except LexiconError as error:
        raise InvalidParameter(str(error), param="lexicon") from error


def _openai_voice(data: dict[str, Any]) -> str | None:
    """OpenAI's `voice`: a name, or an object {"id": name} (its custom-voice form)."""
    value = data.get("voice")
    if isinstance(value, dict):
        voice_id = value.get("id")
        if not isinstance(voice_id, str):
            raise InvalidParameter(
                "'voice' object needs a string 'id' (a name that GET /v1/voices lists)",
                param="voice",
            )
        return _name({"voice": voice_id}, "voice", nullable=False)
    return _name(data, "voice", nullable=False)


def _optional_string(data: dict[str, Any], name: str, max_chars: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameter(f"'{name}' must be a string", param=name)
    if len(value) > max_chars:
        raise TextTooLong(f"'{name}' has {len(value)} characters; the maximum is {max_chars}")
    return value


def _stream_format(data: dict[str, Any]) -> bool:
    """OpenAI's `stream_format`: "audio" (raw bytes, the default) or "sse"; True for sse."""
    value = data.get("stream_format")
    if value is None:
        return False
    if not isinstance(value, str) or value.lower() not in OPENAI_STREAM_FORMATS:
        shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:20]}..."
        raise InvalidParameter(
            f"'stream_format' {shown} is not supported; supported: "
            f"{', '.join(OPENAI_STREAM_FORMATS)}",
            param="stream_format",
        )
    return value.lower() == "sse"


def parse_openai_request(data: dict[str, Any], max_chars: int) -> SynthesisRequest:
    """POST /v1/audio/speech as OpenAI defines it: {model, input, voice (a name or {"id"}),
    instructions, response_format (default mp3), speed (0.25-4.0), stream_format (audio, sse)}
    plus our speaker, emotion and sample_rate (default 24 kHz, OpenAI's rate).  `model` and
    `instructions` are accepted and ignored; `voice` is an installed voice or one of OpenAI's
    names (an alias of the default voice); a speed outside the model's range is clamped (the
    response says so).  Streamable formats stream from the first chunk unless stream is false."""
    text = _text(data, "input", max_chars)
    if "model" in data and not isinstance(data["model"], str):
        raise InvalidParameter("'model' must be a string", param="model")
    voice = _openai_voice(data)
    instructions = _optional_string(data, "instructions", max_chars)
    sent_speed = _number(data, "speed", 1.0, OPENAI_SPEED_RANGE)
    low, high = contract.SPEED_RANGE
    speed = min(max(sent_speed, low), high)
    sse = _stream_format(data)
    # SSE is a stream of events whatever the format: our own `stream` flag does not apply
    # (some OpenAI clients send stream: true along with it).
    checked = {k: v for k, v in data.items() if k != "stream"} if sse else data
    fmt, stream, sample_rate = _output(
        checked, "response_format", OPENAI_FORMATS, OPENAI_DEFAULT_FORMAT, stream_default=True
    )
    return SynthesisRequest(
        text,
        VoiceParams(speed=speed),
        1.0,
        fmt,
        stream,
        voice=voice,
        speaker=_name(data, "speaker"),
        emotion=_name(data, "emotion"),
        openai_voice=True,
        sample_rate=OPENAI_SAMPLE_RATE if sample_rate is None else sample_rate,
        sse=sse,
        speed_requested=sent_speed if speed != sent_speed else None,
        instructions=instructions,
    )
