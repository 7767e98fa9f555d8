"""Synthesis through the HTTP frontend (standard library only), streamed with progress."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

from client.audio_clock import audio_clock
from client.progress import ProgressBar

READ_SIZE = 16 * 1024
# Every format POST /v1/tts delivers, and the rates it can deliver them at.
FORMATS = ("wav", "pcm", "flac", "mp3", "ogg_opus", "mulaw", "alaw", "ogg")
STREAMED_FORMATS = frozenset({"wav", "pcm", "mp3", "ogg_opus", "mulaw", "alaw"})
SAMPLE_RATES = (8000, 16000, 22050, 24000, 44100, 48000)


class FrontendError(RuntimeError):
    pass


def _headers(api_key: str | None, json_body: bool = False) -> dict[str, str]:
    headers = {"Content-Type": "application/json"} if json_body else {}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def error_message(status: int, body: bytes) -> str:
    """'HTTP 400 invalid_parameter: <the server's message>' from a JSON error body."""
    text = body.decode("utf-8", "replace")
    try:
        error = json.loads(text)["error"]
        return f"HTTP {status} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}: {text.strip()[:500]}"


def _open(request: urllib.request.Request, timeout_s: float) -> Any:
    try:
        return urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as error:
        raise FrontendError(error_message(error.code, error.read())) from error
    except urllib.error.URLError as error:
        raise FrontendError(f"cannot reach {request.full_url}: {error.reason}") from error


def list_voices(
    url: str = "http://127.0.0.1:8080", timeout_s: float = 30.0, api_key: str | None = None
) -> dict[str, Any]:
    """GET /v1/voices: {"voices": [...], "default": name}."""
    request = urllib.request.Request(url.rstrip("/") + "/v1/voices", headers=_headers(api_key))
    with _open(request, timeout_s) as resp:
        body: dict[str, Any] = json.loads(resp.read())
        return body


def stream(
    text: str,
    url: str = "http://127.0.0.1:8080",
    *,
    speed: float = 1.0,
    audio_format: str = "wav",
    sample_rate: int | None = None,
    voice: str | None = None,
    speaker: str | None = None,
    emotion: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 600.0,
    show_progress: bool = False,
    lexicon: dict[str, str] | None = None,
) -> Iterator[bytes]:
    """POST /v1/tts; the audio bytes as they arrive.  Streamable formats are streamed and the
    progress is the audio seconds received (decoded from the format's own framing) against
    the server's estimate; flac/ogg come whole and the progress is the download's.
    voice/speaker/emotion/sample_rate: None = the server's default."""
    streamed = audio_format in STREAMED_FORMATS
    fields: dict[str, Any] = {"text": text, "speed": speed, "format": audio_format}
    for name, value in (
        ("voice", voice),
        ("speaker", speaker),
        ("emotion", emotion),
        ("sample_rate", sample_rate),
        ("lexicon", lexicon),
    ):
        if value is not None:
            fields[name] = value
    request = urllib.request.Request(
        url.rstrip("/") + "/v1/tts",
        data=json.dumps({**fields, "stream": streamed}).encode("utf-8"),
        headers=_headers(api_key, json_body=True),
        method="POST",
    )
    with _open(request, timeout_s) as response:
        rate = int(response.headers.get("X-Sample-Rate", "16000"))
        clock = audio_clock(audio_format, rate) if streamed else None
        duration = float(response.headers.get("X-Audio-Duration", "0") or 0)
        length = int(response.headers.get("Content-Length", "0") or 0)
        estimate = duration or float(response.headers.get("X-Estimated-Audio-Seconds", "1"))
        bar = ProgressBar(estimate, "synthesizing", "s", enabled=show_progress)
        received, seconds = 0, 0.0
        while block := response.read(READ_SIZE):
            received += len(block)
            if clock is not None:
                seconds = clock.feed(block)
            elif length:
                seconds = duration * received / length
            bar.update(seconds)
            yield block
        bar.total = seconds if clock is not None else estimate
        bar.finish()


def synthesize(text: str, url: str = "http://127.0.0.1:8080", **options: Any) -> bytes:
    """The whole response of `stream` (same options)."""
    return b"".join(stream(text, url, **options))


def synthesize_timed(
    text: str,
    url: str = "http://127.0.0.1:8080",
    *,
    subtitles: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 600.0,
    **fields: Any,
) -> tuple[bytes, dict[str, Any]]:
    """POST /v1/tts with timestamps: (audio bytes, the JSON answer without its audio:
    format, sample_rate, duration, segments, sentences and, when `subtitles` is "srt" or
    "vtt", subtitles). `fields`: the request's other fields (None = the server's default)."""
    body: dict[str, Any] = {"text": text, "timestamps": True}
    body.update({k: v for k, v in fields.items() if v is not None})
    if subtitles is not None:
        body["subtitles"] = subtitles
    request = urllib.request.Request(
        url.rstrip("/") + "/v1/tts",
        data=json.dumps(body).encode("utf-8"),
        headers=_headers(api_key, json_body=True),
        method="POST",
    )
    with _open(request, timeout_s) as response:
        answer = json.loads(response.read())
    audio = base64.b64decode(answer.pop("audio"))
    return audio, answer
