"""The OpenAPI 3.1 document of the public HTTP API, served at GET /openapi.json.

Every limit, range, format and default comes from the code that enforces it (the config,
mandarin_tts.contract, frontend.validation), so the document cannot drift from behaviour;
tests/unit/frontend/test_openapi.py checks both.
"""

from __future__ import annotations

from typing import Any

from frontend.config import FrontendConfig
from frontend.deadline import REQUEST_TIMEOUT_HEADER, DeadlineExceeded
from frontend.encoding import SAMPLE_RATES, AudioFormat
from frontend.errors import ApiError
from frontend.security import CORS_EXPOSE_HEADERS, Unauthorized
from frontend.shutdown import ShuttingDown
from frontend.validation import (
    BODY_READ_TIMEOUT_S,
    MAX_LEXICON_ENTRIES,
    MAX_NAME_CHARS,
    NATIVE_FORMATS,
    OPENAI_FORMATS,
    OPENAI_SAMPLE_RATE,
    OPENAI_SPEED_RANGE,
    OPENAI_STREAM_FORMATS,
    VOLUME_RANGE,
    SynthesisRequest,
    parse_openai_request,
    parse_tts_request,
)
from frontend.voices import OPENAI_VOICE_ALIASES, VoiceCatalogue
from mandarin_tts import contract
from mandarin_tts.voices.manifest import CONTROLS

OPENAPI_VERSION = "3.1.0"
# /v1/*: a key only when the server has keys configured (docs/security.md), so `{}` too.
PROTECTED_SECURITY: list[dict[str, list[str]]] = [{}, {"bearer": []}, {"apiKey": []}]
API_VERSION = "1"
JSON = "application/json"
# Statuses a synthesis call answers with the JSON error body (there is no 422: validation
# errors are 400, over-long text 413).
SYNTHESIS_ERROR_STATUSES = (400, 401, 408, 413, 415, 429, 500, 503, 504)
# Other /v1/* GETs: keys, rate limits, draining.
PROTECTED_GET_ERROR_STATUSES = (401, 429, 503)
# The catch-all in app.py's request_context is not an ApiError class.
EXTRA_ERROR_CODES = {500: ["internal"]}
# Importing these registers their ApiError subclasses for error_codes_by_status().
_REGISTERED_ERRORS = (Unauthorized, ShuttingDown, DeadlineExceeded)
ERROR_DESCRIPTIONS = {
    400: "Invalid JSON or parameter, or text with nothing to speak; the message says which.",
    401: "API keys are configured and the request has none or an unknown one.",
    408: f"The body did not arrive within {BODY_READ_TIMEOUT_S:g} s.",
    413: "Body over the byte limit, or text over the character limit.",
    415: "Content-Type is not JSON.",
    429: "Too many requests being served, or the client's rate limit; see Retry-After.",
    500: "Internal error; quote the request id.",
    503: "Inference server unavailable or too slow, or the service is shutting down; retry.",
    504: f"The request's deadline ({REQUEST_TIMEOUT_HEADER}) passed first; retry.",
}


def _error_classes() -> list[type[ApiError]]:
    """The service's own ApiError classes (not ones that tests or plugins define)."""
    found, todo = [], [ApiError]
    while todo:
        cls = todo.pop()
        # (WebSocket errors are events and handshake refusals of /v1/tts/ws, documented in
        # docs/websocket.md: OpenAPI does not describe WebSockets.)
        if cls.__module__.startswith("frontend.") and cls.__module__ != "frontend.websocket":
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def error_codes_by_status() -> dict[int, list[str]]:
    """The `error.code` values each status may carry."""
    codes: dict[int, set[str]] = {}
    for cls in _error_classes():
        codes.setdefault(cls.status, set()).add(cls.code)
    for status, extra in EXTRA_ERROR_CODES.items():
        codes.setdefault(status, set()).update(extra)
    return {status: sorted(names) for status, names in codes.items()}


def _nullable_number(bounds: tuple[float, float], default: float, what: str) -> dict[str, Any]:
    return {
        "type": ["number", "null"],
        "minimum": bounds[0],
        "maximum": bounds[1],
        "default": default,
        "description": f"{what}; null or absent means {default}.",
    }


def _format_field(table: dict[str, AudioFormat], default: AudioFormat) -> dict[str, Any]:
    names = sorted(table)
    return {
        "type": ["string", "null"],
        "enum": [*names, None],
        "default": default.value,
        "description": f"Audio format, case-insensitive: {', '.join(names)}.",
    }


def _text_field(max_chars: int, what: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_chars,
        "description": (
            f"{what} (at most {max_chars} characters, valid Unicode). Whitespace only, or "
            "nothing speakable (only punctuation or emoji), is answered with 400."
        ),
    }


def _names_field(
    values: list[str], what: str, default: str | None, nullable: bool = True
) -> dict[str, Any]:
    field: dict[str, Any] = {
        "type": ["string", "null"] if nullable else "string",
        "enum": [*values, None] if nullable else list(values),
        "maxLength": MAX_NAME_CHARS,
        "description": what + ("; null or absent means the default." if nullable else "."),
    }
    if default is not None:
        field["default"] = default
    return field


def _voice_fields(catalogue: VoiceCatalogue) -> dict[str, Any]:
    return {
        "voice": _names_field(
            catalogue.names,
            "An installed voice (GET /v1/voices); unknown: 400 listing them",
            catalogue.default,
        ),
        "speaker": _names_field(
            catalogue.all_speakers(),
            "A speaker of the chosen voice (its `speakers`; default: its default_speaker); "
            "one the voice lacks: 400 listing its speakers",
            None,
        ),
        "emotion": _names_field(
            catalogue.all_emotions(),
            "An emotion of the chosen voice (its `emotions`; default: its default_emotion); "
            "one the voice lacks: 400 listing its emotions",
            None,
        ),
    }


def _stream_field(table: dict[str, AudioFormat], default: bool = False) -> dict[str, Any]:
    streamable = sorted(name for name, fmt in table.items() if fmt.streamable)
    return {
        "type": "boolean",
        "default": default,
        "x-streamable-formats": streamable,
        "description": (
            "Chunked transfer as audio is produced; only for "
            f"{', '.join(streamable)} (other formats: 400)."
            + (" Default: true for those formats, false for the others." if default else "")
        ),
    }


def _sample_rate_field(table: dict[str, AudioFormat], default: int | None) -> dict[str, Any]:
    limited = {name: list(fmt.rates) for name, fmt in table.items() if fmt.rates != SAMPLE_RATES}
    voice_rate = "the voice's rate (mulaw/alaw: 8000; Opus: 48000 for a voice at another rate)"
    said = f"{default} Hz" if default else voice_rate
    field: dict[str, Any] = {
        "type": ["integer", "null"],
        "enum": [*SAMPLE_RATES, None],
        "x-format-sample-rates": limited,
        "description": (
            f"Delivered sample rate in Hz (soxr resampling); null or absent means {said}. "
            f"Formats with fewer rates: {limited} (others: 400 listing them)."
        ),
    }
    if default:
        field["default"] = default
    return field


def _openai_voice_field(names: list[str], default_voice: str) -> dict[str, Any]:
    what = (
        "An installed voice (GET /v1/voices), or one of OpenAI's voice names, which all mean "
        f"the default voice ({default_voice}); absent: the default voice"
    )
    return {
        "anyOf": [
            _names_field(names, what, None, nullable=False),
            {
                "type": "object",
                "required": ["id"],
                "properties": {"id": _names_field(names, "The voice's name", None, False)},
                "description": "OpenAI's custom-voice form {'id': name}; the same names.",
            },
        ],
        "description": what + "; a name or an object {'id': name}.",
    }


def _tts_request_schema(
    max_chars: int, defaults: SynthesisRequest, catalogue: VoiceCatalogue
) -> dict[str, Any]:
    return {
        "type": "object",
        "anyOf": [{"required": ["text"]}, {"required": ["ssml"]}],
        "additionalProperties": True,
        "description": (
            "Send `text` or `ssml`. Unknown fields are ignored. A control (speed, pitch, energy) other than 1 on a "
            "voice without it (its `controls` in GET /v1/voices) is answered with 400."
        ),
        "properties": {
            "text": _text_field(
                max_chars, "Mandarin text to speak; text starting with <speak is read as SSML"
            ),
            "ssml": {
                "type": "string",
                "minLength": 1,
                "description": (
                    "An SSML document (instead of text): speak, p, s, break, prosody, phoneme "
                    "(alphabet py), sub, say-as, emphasis; GET /v1/limits lists its limits. "
                    "Malformed, unsafe (DTDs, entities) or unsupported markup is answered "
                    "with 400 invalid_ssml naming the element and its line and column."
                ),
            },
            "lexicon": {
                "type": "object",
                "maxProperties": MAX_LEXICON_ENTRIES,
                "additionalProperties": {"type": "string"},
                "description": (
                    'Readings of words for this request, {"曾": "zeng1"}: toned pinyin, one '
                    "syllable per Chinese character. They override the deployment lexicon "
                    "and G2P; SSML phoneme overrides them. A bad entry is answered with 400."
                ),
            },
            **_voice_fields(catalogue),
            "speed": _nullable_number(
                contract.SPEED_RANGE, defaults.params.speed, "Speaking rate factor"
            ),
            "pitch": _nullable_number(contract.PITCH_RANGE, defaults.params.pitch, "Pitch factor"),
            "energy": _nullable_number(
                contract.ENERGY_RANGE, defaults.params.energy, "Loudness of the voice (energy)"
            ),
            "volume": _nullable_number(VOLUME_RANGE, defaults.volume, "Output gain"),
            "format": _format_field(NATIVE_FORMATS, defaults.audio_format),
            "sample_rate": _sample_rate_field(NATIVE_FORMATS, None),
            "stream": _stream_field(NATIVE_FORMATS),
            "timestamps": {
                "type": ["boolean", "null"],
                "default": False,
                "description": (
                    "Answer JSON (TimedSpeech) instead of audio: the audio in base64 and one "
                    "segment per spoken character with its toned pinyin and start/end in "
                    "seconds. Not with stream: true (400). Voices of the fastspeech2 family."
                ),
            },
            "subtitles": {
                "type": ["string", "null"],
                "enum": ["srt", "vtt", None],
                "description": "Also sentence subtitles in the JSON answer; implies timestamps.",
            },
        },
    }


TIMED_SPEECH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["audio", "format", "sample_rate", "duration", "segments", "sentences"],
    "properties": {
        "audio": {"type": "string", "contentEncoding": "base64"},
        "format": {"type": "string"},
        "sample_rate": {"type": "integer"},
        "duration": {"type": "number", "description": "Seconds of audio."},
        "segments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["text", "pinyin", "start", "end"],
                "properties": {
                    "text": {"type": "string", "description": "A spoken character."},
                    "pinyin": {"type": "string", "description": "Toned syllable(s) spoken."},
                    "start": {"type": "number"},
                    "end": {"type": "number"},
                },
            },
        },
        "sentences": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["text", "start", "end"],
                "properties": {
                    "text": {"type": "string"},
                    "start": {"type": "number"},
                    "end": {"type": "number"},
                },
            },
        },
        "subtitles": {"type": "string", "description": "SRT or WebVTT text, when asked."},
        "subtitles_format": {"type": "string", "enum": ["srt", "vtt"]},
    },
}


def _speech_request_schema(
    max_chars: int, defaults: SynthesisRequest, catalogue: VoiceCatalogue
) -> dict[str, Any]:
    voice_fields = _voice_fields(catalogue)
    aliases = [a for a in OPENAI_VOICE_ALIASES if a not in catalogue.voices]
    return {
        "type": "object",
        "required": ["input"],
        "additionalProperties": True,
        "description": "OpenAI-compatible; unknown fields are ignored.",
        "properties": {
            "input": _text_field(max_chars, "Mandarin text to speak"),
            "model": {"type": "string", "description": "Accepted and ignored."},
            "voice": _openai_voice_field([*catalogue.names, *aliases], catalogue.default),
            "instructions": {
                "type": ["string", "null"],
                "maxLength": max_chars,
                "description": "Accepted and ignored (the voices have no style prompt).",
            },
            "speaker": voice_fields["speaker"],
            "emotion": voice_fields["emotion"],
            "response_format": _format_field(OPENAI_FORMATS, defaults.audio_format),
            "sample_rate": _sample_rate_field(OPENAI_FORMATS, OPENAI_SAMPLE_RATE),
            "speed": _nullable_number(
                OPENAI_SPEED_RANGE,
                defaults.params.speed,
                "Speaking rate factor (OpenAI's range); outside the model's "
                f"{list(contract.SPEED_RANGE)} it is clamped and X-Speed-Clamped says to what",
            ),
            "stream_format": {
                "type": ["string", "null"],
                "enum": [*OPENAI_STREAM_FORMATS, None],
                "default": OPENAI_STREAM_FORMATS[0],
                "description": (
                    "audio: the audio bytes, streamed from the first chunk for streamable "
                    "formats; sse: text/event-stream of speech.audio.delta events (base64 "
                    "audio) and one speech.audio.done with usage."
                ),
            },
            "stream": _stream_field(OPENAI_FORMATS, default=True),
        },
    }


SSE = "text/event-stream"
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
# The data of each event of stream_format "sse" (OpenAI's speech events, or an error event
# when synthesis fails after the stream began).
SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["speech.audio.delta", "speech.audio.done", "error"]},
        "audio": {"type": "string", "description": "base64 audio (speech.audio.delta)"},
        "usage": {"type": "object", "description": "speech.audio.done"},
        "error": {"type": "object", "description": "error"},
    },
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "request_id"],
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable."},
                "message": {"type": "string", "minLength": 1, "description": "What to fix."},
                "request_id": {"type": "string", "minLength": 1},
            },
        }
    },
}

# /v1/audio/speech answers errors in OpenAI's shape (frontend/openai_compat.py).
OPENAI_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string", "minLength": 1, "description": "What to fix."},
                "type": {
                    "type": "string",
                    "enum": [
                        "invalid_request_error", "authentication_error", "permission_error",
                        "rate_limit_error", "server_error",
                    ],
                },
                "param": {"type": ["string", "null"], "description": "The field at fault."},
                "code": {"type": "string", "description": "Stable; the native route's codes."},
            },
        }
    },
}  # fmt: skip

_HEADER = {"schema": {"type": "string"}}
AUDIO_HEADERS = {
    "X-Request-Id": {**_HEADER, "description": "The client's X-Request-Id if sane, else new."},
    "X-Chunks": {**_HEADER, "description": "Number of text chunks synthesized."},
    "X-Sample-Rate": {**_HEADER, "description": "Sample rate of the delivered audio in Hz."},
    "X-Speed-Clamped": {
        **_HEADER,
        "description": "/v1/audio/speech: the speed used, where the one sent was outside the "
        "model's range (X-Speed-Requested has the one sent).",
    },
    "X-Speed-Requested": {**_HEADER, "description": "The speed sent, where it was clamped."},
    "X-Voice": {**_HEADER, "description": "The voice that spoke (OpenAI names resolved)."},
    "X-Estimated-Audio-Seconds": {**_HEADER, "description": "Rough duration, for progress."},
    "X-Audio-Duration": {**_HEADER, "description": "Exact duration in s (not when streaming)."},
}


def _error_responses(statuses: tuple[int, ...], schema: str = "Error") -> dict[str, Any]:
    codes = error_codes_by_status()
    responses = {}
    for status in statuses:
        headers = {"X-Request-Id": AUDIO_HEADERS["X-Request-Id"]}
        if status in (429, 503, 504):
            headers["Retry-After"] = {**_HEADER, "description": "Seconds to wait."}
        responses[str(status)] = {
            "description": f"{ERROR_DESCRIPTIONS[status]} Codes: {', '.join(codes[status])}.",
            "headers": headers,
            "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    return responses


def _synthesis_operation(
    summary: str,
    schema_name: str,
    table: dict[str, AudioFormat],
    max_body_bytes: int,
    error_schema: str = "Error",
    extra_media: tuple[str, ...] = (),
) -> dict[str, Any]:
    media_types = sorted({fmt.content_type for fmt in table.values()} | set(extra_media))
    return {
        "summary": summary,
        "security": PROTECTED_SECURITY,
        "parameters": [
            {
                "name": REQUEST_TIMEOUT_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "number", "minimum": 1},
                "description": (
                    "Deadline for the whole request in seconds (else 400); when it passes "
                    "the work stops and 504 is answered (a stream is cut)."
                ),
            }
        ],
        "requestBody": {
            "required": True,
            "description": f"A JSON object of at most {max_body_bytes} bytes (else 413).",
            "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
        },
        "responses": {
            "200": {
                "description": (
                    "The audio (mono, in the format and at the sample rate asked for; "
                    "X-Sample-Rate says which); headers describe it."
                ),
                "headers": AUDIO_HEADERS,
                "content": {
                    media: {"schema": SSE_EVENT_SCHEMA if media == SSE else BINARY}
                    for media in media_types
                },
            },
            **_error_responses(SYNTHESIS_ERROR_STATUSES, error_schema),
        },
    }


def _limits_schema(config: FrontendConfig, catalogue: VoiceCatalogue) -> dict[str, Any]:
    pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    names = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "properties": {
            "max_text_chars": {"type": "integer", "const": config.max_text_chars},
            "max_body_bytes": {"type": "integer", "const": config.max_body_bytes},
            "speed": pair,
            "pitch": pair,
            "energy": pair,
            "volume": pair,
            "formats": names,
            "openai_response_formats": names,
            "stream_formats": names,
            "openai_stream_formats": names,
            "sample_rates": {"type": "array", "items": {"type": "integer"}},
            "format_sample_rates": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "integer"}},
            },
            "sample_rate": {
                "type": "integer",
                "const": catalogue.voices[catalogue.default].sample_rate,
                "description": "Of the default voice; GET /v1/voices has each voice's.",
            },
            "chunk_max_chars": {"type": "integer"},
            "voices": names,
            "default_voice": {"type": "string", "const": catalogue.default},
            "ssml": {
                "type": "object",
                "description": "SSML on POST /v1/tts (docs/ssml.md): elements and limits.",
                "properties": {
                    "elements": names,
                    "say_as": names,
                    "date_formats": names,
                    "phoneme_alphabets": names,
                    "max_document_chars": {"type": "integer"},
                    "max_depth": {"type": "integer"},
                    "max_elements": {"type": "integer"},
                    "max_break_ms": {"type": "number"},
                },
            },
            "timestamps": {
                "type": "object",
                "description": "Per-character timestamps and subtitles on POST /v1/tts "
                "(docs/timestamps.md): the voices that report durations, the subtitle "
                "formats, and whether a streamed response can carry them (no).",
                "properties": {
                    "voices": names,
                    "subtitles": names,
                    "streaming": {"type": "boolean"},
                },
            },
            "lexicon": {
                "type": "object",
                "description": "The per-request `lexicon` of POST /v1/tts.",
                "properties": {
                    "max_entries": {"type": "integer", "const": MAX_LEXICON_ENTRIES},
                    "max_word_chars": {"type": "integer"},
                    "alphabet": {"type": "string"},
                },
            },
        },
    }


VOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "name", "family", "description", "language", "sample_rate", "speakers",
        "default_speaker", "emotions", "default_emotion", "controls", "licence", "source",
    ],
    "properties": {
        "name": {"type": "string", "description": "Send it as `voice`."},
        "family": {"type": "string", "description": "The model pipeline that runs it."},
        "description": {"type": "string"},
        "language": {"type": "string"},
        "sample_rate": {"type": "integer", "description": "Hz of the audio it returns."},
        "speakers": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "default_speaker": {"type": "string"},
        "emotions": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "default_emotion": {"type": "string"},
        "controls": {
            "type": "array",
            "items": {"type": "string", "enum": list(CONTROLS)},
            "description": "The controls it takes; others must be 1 or absent.",
        },
        "licence": {"type": "string", "description": "Terms of use of its weights."},
        "source": {"type": "string"},
    },
}  # fmt: skip


def _voices_schema(catalogue: VoiceCatalogue) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["voices", "default"],
        "properties": {
            "voices": {"type": "array", "items": {"$ref": "#/components/schemas/Voice"}},
            "default": {
                "type": "string",
                "enum": catalogue.names,
                "description": "The voice of requests that name none.",
            },
        },
    }


HEALTH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "detail", "probe_seconds"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "unavailable", "draining"]},
        "detail": {"type": "string"},
        "probe_seconds": {"type": "number"},
    },
}


def _get(
    summary: str, media: str, schema: dict[str, Any], errors: dict[str, Any] | None = None
) -> dict[str, Any]:
    ok = {"description": "OK", "content": {media: {"schema": schema}}}
    return {"get": {"summary": summary, "security": [], "responses": {"200": ok, **(errors or {})}}}


def _protected_get(summary: str, schema: str) -> dict[str, Any]:
    """A JSON GET behind the API key, answering the components schema `schema`."""
    operation = _get(
        summary,
        JSON,
        {"$ref": f"#/components/schemas/{schema}"},
        _error_responses(PROTECTED_GET_ERROR_STATUSES),
    )
    operation["get"]["security"] = PROTECTED_SECURITY
    return operation


def _with_timed_answer(operation: dict[str, Any]) -> dict[str, Any]:
    """/v1/tts also answers JSON when `timestamps` or `subtitles` is asked."""
    ok = operation["responses"]["200"]
    ok["content"][JSON] = {"schema": {"$ref": "#/components/schemas/TimedSpeech"}}
    ok["description"] += " With timestamps or subtitles: JSON (TimedSpeech)."
    return operation


def build_openapi(
    config: FrontendConfig, catalogue: VoiceCatalogue | None = None
) -> dict[str, Any]:
    """The document for a frontend running with `config` and `catalogue` (default: the
    voices `config` names)."""
    catalogue = catalogue or VoiceCatalogue.load(
        config.models_dir, config.voices_dir, config.default_voice
    )
    tts_defaults = parse_tts_request({"text": "."}, 1)
    speech_defaults = parse_openai_request({"input": "."}, 1)
    limits = _protected_get("Limits of this server", "Limits")
    voices = _protected_get(
        "The installed voices, their speakers, emotions, controls and licences", "Voices"
    )
    tts_operation = _synthesis_operation(
        "Synthesize speech", "TtsRequest", NATIVE_FORMATS, config.max_body_bytes
    )
    health_503 = {
        "description": "Not ready (inference failing) or draining; see Retry-After.",
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Health"}}},
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Mandarin TTS",
            "version": API_VERSION,
            "description": (
                "Mandarin text to speech. Every error is JSON: "
                '{"error": {"code", "message", "request_id"}}; on /v1/audio/speech in '
                'OpenAI\'s shape {"error": {"message", "type", "param", "code"}}. Browsers '
                "may read these "
                f"response headers across origins: {CORS_EXPOSE_HEADERS}."
            ),
        },
        "paths": {
            "/v1/tts": {"post": _with_timed_answer(tts_operation)},
            "/v1/audio/speech": {
                "post": _synthesis_operation(
                    "Synthesize speech (OpenAI-compatible)",
                    "SpeechRequest",
                    OPENAI_FORMATS,
                    config.max_body_bytes,
                    error_schema="OpenAIError",
                    extra_media=(SSE,),
                )
            },
            "/v1/limits": limits,
            "/v1/voices": voices,
            "/healthz": _get(
                "Ready when a real synthesis succeeds",
                JSON,
                {"$ref": "#/components/schemas/Health"},
                {"503": health_503},
            ),
            "/metrics": _get("Prometheus metrics", "text/plain", {"type": "string"}),
            "/openapi.json": _get("This document", JSON, {"type": "object"}),
            "/": _get("The web page", "text/html", {"type": "string"}),
        },
        "components": {
            "schemas": {
                "TtsRequest": _tts_request_schema(config.max_text_chars, tts_defaults, catalogue),
                "SpeechRequest": _speech_request_schema(
                    config.max_text_chars, speech_defaults, catalogue
                ),
                "Error": ERROR_SCHEMA,
                "OpenAIError": OPENAI_ERROR_SCHEMA,
                "Limits": _limits_schema(config, catalogue),
                "Voices": _voices_schema(catalogue),
                "Voice": VOICE_SCHEMA,
                "Health": HEALTH_SCHEMA,
                "TimedSpeech": TIMED_SPEECH_SCHEMA,
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "x-max-body-bytes": config.max_body_bytes,
    }
