"""Locust client wrapper for the HTTP frontend's POST /v1/tts (WAV, streamed or whole).

First-audio latency is the time to the first PCM bytes of the body; for a whole-file
response that is when the body starts arriving (the server sends it only when complete).
Audio seconds are counted from the PCM bytes actually received (16-bit mono).
"""

from __future__ import annotations

import struct
import time
from typing import Any

import requests

from loadtest.users.reporting import Reporter
from loadtest.users.textmix import Text
from mandarin_tts import contract as c

REQUEST_TYPE = "POST"
TARGET = "frontend"
TTS_PATH = "/v1/tts"
BYTES_PER_SAMPLE = 2  # the frontend's WAV is 16-bit PCM
MAX_WAV_HEADER = 4096


class HttpStatusError(RuntimeError):
    pass


def wav_data_offset(head: bytes) -> int | None:
    """Offset of the first PCM byte in a RIFF/WAVE stream, or None if `head` is too short.

    Walks the chunks instead of assuming 44 bytes; a streamed header's sizes are 0xFFFFFFFF,
    which does not matter because only the chunk ids before `data` are skipped by size.
    """
    if len(head) < 12:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError("response is not a RIFF/WAVE stream")
    offset = 12
    while offset + 8 <= len(head):
        chunk_id = head[offset : offset + 4]
        (size,) = struct.unpack_from("<I", head, offset + 4)
        if chunk_id == b"data":
            return offset + 8
        offset += 8 + size + (size & 1)
    if len(head) > MAX_WAV_HEADER:
        raise ValueError("no data chunk in the WAV header")
    return None


class FrontendClient:
    def __init__(self, base_url: str, reporter: Reporter, timeout_s: float = 600.0) -> None:
        self.url = base_url.rstrip("/") + TTS_PATH
        self.session = requests.Session()
        self.reporter = reporter
        self.timeout_s = timeout_s

    def synthesize(self, text: Text, stream: bool, speed: float | None = None) -> None:
        name = f"{TARGET} {'stream' if stream else 'file'} {text.kind}"
        body: dict[str, Any] = {"text": text.text, "format": "wav", "stream": stream}
        if speed is not None:
            body["speed"] = speed
        started = time.perf_counter()
        received = 0
        try:
            with self.session.post(self.url, json=body, stream=True, timeout=self.timeout_s) as r:
                if r.status_code != 200:
                    raise HttpStatusError(f"HTTP {r.status_code}: {r.text[:200]}")
                sample_rate = int(r.headers.get("X-Sample-Rate", c.OUTPUT_SAMPLE_RATE))
                head = b""
                data_offset: int | None = None
                pcm_bytes = 0
                first_audio_s = 0.0
                for piece in r.iter_content(chunk_size=None):
                    received += len(piece)
                    if data_offset is None:
                        head += piece
                        data_offset = wav_data_offset(head)
                        if data_offset is None:
                            continue
                        piece = head[data_offset:]
                    if piece and pcm_bytes == 0:
                        first_audio_s = time.perf_counter() - started
                    pcm_bytes += len(piece)
        except Exception as error:  # cut streams, timeouts, HTTP errors: all failed requests
            self.reporter.failure(REQUEST_TYPE, name, started, error, received)
            return
        audio_s = pcm_bytes / BYTES_PER_SAMPLE / sample_rate
        self.reporter.success(REQUEST_TYPE, name, started, first_audio_s, audio_s, received)

    def close(self) -> None:
        self.session.close()
