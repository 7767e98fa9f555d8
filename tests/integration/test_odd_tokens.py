"""Odd tokens through the real service (frontend process + tritonserver): a 300-character
URL, a 400-digit number, a 5,000-letter word and a character followed by 5,000 combining
marks each return speech; nothing returns a 5xx or Triton's wording."""

from __future__ import annotations

import io
import json
import random
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
import soundfile as sf
from frontend_process_helpers import FrontendProcess

pytestmark = pytest.mark.integration

# Words that belong to Triton or the text step, never to a public message.
TRITON_WORDING = ("in ensemble", "TEXT expands", "TEXT has", "symbol_ids", "ling_units", "stub")


def _post(url: str, body: dict[str, Any], timeout: float = 600) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url + "/v1/tts",
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _seconds_of_speech(wav: bytes) -> float:
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32")
    assert abs(audio).max() > 0.05  # not silence
    return len(audio) / rate


def _url_300() -> str:
    url = "https://www.example.com/" + "/".join(f"section{i}" for i in range(40))
    return url[:300]


def _digits_400() -> str:
    rng = random.Random(14)
    return "".join(rng.choice("0123456789") for _ in range(400))


CASES = {
    "300-character URL": f"请访问{_url_300()}查看详情。",
    "400-digit number": f"编号{_digits_400()}。",
    "combining marks": "好" + "\u0301" * 5000 + "的。",
}


@pytest.mark.parametrize("name", list(CASES))
def test_odd_token_returns_speech(frontend: FrontendProcess, name: str) -> None:
    started = time.monotonic()
    status, body = _post(frontend.url, {"text": CASES[name]})
    took = time.monotonic() - started
    assert status == 200, body[:500]
    seconds = _seconds_of_speech(body)
    print(f"\n{name}: {len(CASES[name])} characters -> {seconds:.1f} s of speech in {took:.1f} s")
    assert seconds > 0.3  # 好的 alone is about 0.4 s


def test_a_5000_letter_word_streams_speech(frontend: FrontendProcess) -> None:
    """Spelling 5,000 letters is many minutes of audio: the test reads the first seconds of
    the stream (every chunk of the text measuring within the model's limit is checked at
    unit level, tests/unit/frontend/test_text_cleanup.py)."""
    body = json.dumps({"text": "单词" + "abcdefghij" * 500 + "。", "stream": True}).encode()
    request = urllib.request.Request(
        frontend.url + "/v1/tts", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        assert response.status == 200
        received = b""
        while len(received) < 44 + 3 * 32000:  # three seconds of 16 kHz 16-bit audio
            piece = response.read1(65536)
            if not piece:
                break
            received += piece
    assert received[:4] == b"RIFF" and len(received) > 44 + 32000


def test_text_no_voice_can_speak_is_a_clear_400(frontend: FrontendProcess) -> None:
    status, body = _post(frontend.url, {"text": "Привет, мир! \u200b\ue000"})
    assert status == 400, body[:300]
    message = json.loads(body)["error"]["message"]
    assert not any(word in message for word in TRITON_WORDING), message


def test_random_odd_mixtures_never_fail_the_server(frontend: FrontendProcess) -> None:
    rng = random.Random(1414)
    pieces = [
        "你好", "电话13912345678", "https://a.example.cn/x?y=1", "a.b@c.com", "\u0301" * 50,
        "\u202e", "👍🏽", "\x07", "\ud7ff", "שלום", "XKCDQZPTRWBNMX", "v2.1.3", "3:2",
        "-3.5%", "12:30", "，", "。", "0" * 30, "\U0010fffd", "\ue001",
    ]  # fmt: skip
    for _ in range(6):
        text = "".join(rng.choice(pieces) for _ in range(8)) + "。"
        status, body = _post(frontend.url, {"text": text})
        assert status < 500, (text, body[:300])
        if status != 200:
            message = json.loads(body)["error"]["message"]
            assert not any(word in message for word in TRITON_WORDING), (text, message)
