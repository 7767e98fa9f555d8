"""Synthesis through the HTTP frontend (standard library only), streaming with progress."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from client.progress import ProgressBar
from client.wav import fix_wav_sizes

READ_SIZE = 16 * 1024


class FrontendError(RuntimeError):
    pass


def list_voices(url: str = "http://127.0.0.1:8080", timeout_s: float = 30.0) -> dict[str, Any]:
    """GET /v1/voices: {"voices": [...], "default": name}."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/v1/voices", timeout=timeout_s) as resp:
            body: dict[str, Any] = json.loads(resp.read())
            return body
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        raise FrontendError(f"HTTP {error.code}: {detail}") from error


def synthesize(
    text: str,
    url: str = "http://127.0.0.1:8080",
    *,
    speed: float = 1.0,
    audio_format: str = "wav",
    voice: str | None = None,
    speaker: str | None = None,
    emotion: str | None = None,
    timeout_s: float = 600.0,
    show_progress: bool = False,
) -> bytes:
    """POST /v1/tts.  WAV is streamed (progress = audio seconds received vs the server's
    estimate); other formats are fetched whole.  voice/speaker/emotion: None = the server's
    default."""
    stream = audio_format == "wav"
    fields: dict[str, Any] = {"text": text, "speed": speed, "format": audio_format}
    for name, value in (("voice", voice), ("speaker", speaker), ("emotion", emotion)):
        if value is not None:
            fields[name] = value
    body = json.dumps({**fields, "stream": stream})
    request = urllib.request.Request(
        url.rstrip("/") + "/v1/tts",
        data=body.encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        raise FrontendError(f"HTTP {error.code}: {detail}") from error
    with response:
        rate = int(response.headers.get("X-Sample-Rate", "16000"))
        estimate = float(response.headers.get("X-Estimated-Audio-Seconds", "1"))
        bar = ProgressBar(estimate, "synthesizing", "s", enabled=show_progress)
        parts: list[bytes] = []
        received = 0
        while block := response.read(READ_SIZE):
            parts.append(block)
            received += len(block)
            bar.update(max(received - 44, 0) / (2 * rate))
        bar.total = max(received - 44, 0) / (2 * rate)
        bar.finish()
    audio = b"".join(parts)
    return fix_wav_sizes(audio) if stream else audio
