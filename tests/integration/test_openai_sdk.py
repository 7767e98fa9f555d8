"""/v1/audio/speech driven by the real `openai` Python SDK against the real service (Triton +
the frontend as its own process): plain and streaming calls, SSE, 24 kHz pcm, speed clamping,
the voice object, and errors the SDK turns into its exception types."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from audio_decode_helpers import CODEC_SLACK_SAMPLES, pyav_decode, soundfile_decode
from frontend_process_helpers import FrontendProcess, eval_text_path

from mandarin_tts import contract

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.integration

TEXT = "今天天气很好，我们一起去公园散步。晚上回家做饭，图书馆里很安静。欢迎使用语音合成服务。"


@pytest.fixture(scope="module")
def client(frontend: FrontendProcess) -> Any:
    # The service needs no key unless configured; the SDK insists on one.
    return openai.OpenAI(base_url=frontend.url + "/v1", api_key="unused", max_retries=0)


@pytest.fixture(scope="module")
def wav_seconds(client: Any) -> float:
    """The same request as WAV (24 kHz, OpenAI's rate)."""
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input=TEXT, response_format="wav"
    ).content
    rate, samples, _ = soundfile_decode(audio)
    assert rate == 24_000
    return samples / rate


def test_plain_call_defaults_to_24_khz_mp3(client: Any, wav_seconds: float) -> None:
    response = client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT)
    assert response.response.headers["content-type"] == "audio/mpeg"
    rate, samples = pyav_decode(response.content)
    assert rate == 24_000
    # The route streams mp3 (no gapless header): within 1 % plus the codec's delay.
    slack = CODEC_SLACK_SAMPLES["mp3_stream"] / rate
    assert abs(samples / rate - wav_seconds) <= 0.01 * wav_seconds + slack


@pytest.mark.parametrize("fmt", ["opus", "aac", "flac", "wav", "pcm"])
def test_every_response_format(client: Any, wav_seconds: float, fmt: str) -> None:
    audio = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="alloy", input=TEXT, response_format=fmt
    ).content
    if fmt == "pcm":
        seconds = len(audio) / 2 / 24_000  # 24 kHz s16le, as OpenAI defines it
    else:
        rate, samples = pyav_decode(audio)
        assert rate == (48_000 if fmt == "opus" else 24_000)
        seconds = samples / rate
        if fmt != "aac":
            assert soundfile_decode(audio)[0] == 24_000
    slack = CODEC_SLACK_SAMPLES["aac"] / 24_000 if fmt == "aac" else 0.0
    print(f"\n{fmt}: {seconds:.4f} s vs WAV {wav_seconds:.4f} s")
    assert abs(seconds - wav_seconds) <= 0.01 * wav_seconds + slack


def test_streaming_response_starts_with_the_first_chunk(client: Any) -> None:
    path = eval_text_path("long_zh.txt")
    text = path.read_text(encoding="utf-8").strip()[:150] if path.exists() else TEXT * 3
    start = time.monotonic()
    first_s, pcm = None, b""
    # A speed no other test uses: Triton's response cache is cold for these chunks.
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=text, response_format="pcm", speed=0.91
    ) as response:
        assert response.headers["x-sample-rate"] == "24000"
        for data in response.iter_bytes():
            if first_s is None and data:
                first_s = time.monotonic() - start
            pcm += data
    total_s = time.monotonic() - start
    assert first_s is not None
    print(f"\nSDK streaming pcm: first audio {first_s:.2f} s, total {total_s:.2f} s")
    print(f"audio {len(pcm) / 2 / 24_000:.1f} s")
    assert first_s < 0.5 * total_s
    assert len(pcm) % 2 == 0 and len(pcm) / 2 / 24_000 > 15


def test_sse_events(client: Any, wav_seconds: float) -> None:
    events = []
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="alloy", input=TEXT, stream_format="sse"
    ) as response:
        assert response.headers["content-type"] == "text/event-stream"
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    assert len(events) >= 3 and events[-1]["type"] == "speech.audio.done"
    usage = events[-1]["usage"]
    assert usage["input_tokens"] == len(TEXT) and usage["total_tokens"] > usage["input_tokens"]
    mp3 = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    rate, samples = pyav_decode(mp3)
    slack = CODEC_SLACK_SAMPLES["mp3_stream"] / rate
    assert rate == 24_000 and abs(samples / rate - wav_seconds) <= 0.01 * wav_seconds + slack


def test_speed_voice_object_and_instructions(client: Any) -> None:
    raw = client.audio.speech.with_raw_response.create(
        model="tts-1",
        voice={"id": "baker"},
        input="您好，欢迎致电。",
        speed=3.0,
        instructions="Speak warmly.",
        response_format="wav",
    )
    assert raw.headers["x-voice"] == "baker"
    assert float(raw.headers["x-speed-clamped"]) == contract.SPEED_RANGE[1]
    assert float(raw.headers["x-speed-requested"]) == 3.0
    assert soundfile_decode(raw.content)[0] == 24_000


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"speed": 5.0}, "speed"),
        ({"voice": "nobody"}, "voice"),
        ({"response_format": "ogg"}, "response_format"),
        ({"input": "   "}, "input"),
    ],
)
def test_errors_reach_the_sdk_in_openais_shape(
    client: Any, kwargs: dict[str, Any], param: str
) -> None:
    call = {"model": "tts-1", "voice": "alloy", "input": "你好。", **kwargs}
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.speech.create(**call)
    error = raised.value
    assert error.status_code == 400 and error.type == "invalid_request_error"
    assert error.param == param and error.code == "invalid_parameter"
    assert set(error.body) == {"message", "type", "param", "code", "request_id"}
    assert error.body["message"]
    assert error.response.headers["x-request-id"]
