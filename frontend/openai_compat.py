"""The OpenAI shapes of /v1/audio/speech: its error body and its server-sent events.

Errors there are {"error": {"message", "type", "param", "code"}} as OpenAI's SDKs parse them
(the native route keeps {"error": {"code", "message", "request_id"}}); the request id is in
the X-Request-Id header.  SSE (stream_format "sse") sends `speech.audio.delta` events with
base64 audio and one `speech.audio.done` with usage; a failure after the first event is an
`error` event in the same error shape."""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

from frontend.errors import ApiError

OPENAI_SPEECH_PATH = "/v1/audio/speech"
SSE_CONTENT_TYPE = "text/event-stream"
# Usage for the done event: there are no tokens here, so input counts characters of input
# and output counts 20 ms frames of audio (documented in docs/api_formats.md).
OUTPUT_FRAMES_PER_SECOND = 50

# Messages name their field first: "'speed' is 9, outside ..." -> param "speed".
_LEADING_FIELD = re.compile(r"^'([A-Za-z_][A-Za-z0-9_]*)'")


def error_type(status: int) -> str:
    """OpenAI's error `type` for an HTTP status."""
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def error_param(error: ApiError) -> str | None:
    if error.param is not None:
        return error.param
    found = _LEADING_FIELD.match(error.message)
    return found.group(1) if found else None


def openai_error_body(error: ApiError, request_id: str | None = None) -> dict[str, Any]:
    """OpenAI's error object; `request_id` rides along as an extra field (the SDKs ignore
    fields they do not know, and operators find the request in the log by it)."""
    body: dict[str, Any] = {
        "message": error.message,
        "type": error_type(error.status),
        "param": error_param(error),
        "code": error.code,
    }
    if request_id is not None:
        body["request_id"] = request_id
    return {"error": body}


def sse_event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


def audio_delta(audio: bytes) -> bytes:
    return sse_event({"type": "speech.audio.delta", "audio": base64.b64encode(audio).decode()})


def audio_done(input_chars: int, audio_seconds: float) -> bytes:
    output = math.ceil(audio_seconds * OUTPUT_FRAMES_PER_SECOND)
    usage = {
        "input_tokens": input_chars,
        "output_tokens": output,
        "total_tokens": input_chars + output,
    }
    return sse_event({"type": "speech.audio.done", "usage": usage})


def error_event(error: ApiError) -> bytes:
    return sse_event({"type": "error", **openai_error_body(error)})
