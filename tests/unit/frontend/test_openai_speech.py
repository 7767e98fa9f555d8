"""/v1/audio/speech as OpenAI defines it: every field, streaming from the first chunk, SSE
events, speed clamping, and errors in OpenAI's shape (the native route keeps its own)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from audio_decode_helpers import pyav_decode, soundfile_decode
from frontend_helpers import FakeSynthesizer

from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.encoding import AudioFormat
from frontend.errors import InvalidParameter, TextTooLong
from frontend.openai_compat import error_param, error_type
from frontend.validation import OPENAI_SAMPLE_RATE, parse_openai_request
from mandarin_tts import contract

MAX = 100
TEXT = "春天来了，花开了，鸟儿在歌唱。" * 3
# OpenAI's four fields, plus our request id (the SDKs ignore fields they do not know).
OPENAI_ERROR_KEYS = {"message", "type", "param", "code", "request_id"}


def run(
    test: Callable[[TestClient, FakeSynthesizer], Awaitable[Any]],
    synth: FakeSynthesizer | None = None,
    environ: dict[str, str] | None = None,
    **config: Any,
) -> Any:
    synth = synth or FakeSynthesizer(delay_s=0.001)
    cfg = FrontendConfig(**{"chunk_max_chars": 20, "max_text_chars": 1000, **config})

    async def main() -> Any:
        app = create_app(cfg, lambda _cfg: synth, environ=environ or {})
        async with TestClient(TestServer(app)) as client:
            return await test(client, synth)

    return asyncio.run(main())


def sse_events(body: bytes) -> list[dict[str, Any]]:
    events = []
    for block in body.decode().split("\n\n"):
        if block.strip():
            assert block.startswith("data: "), block[:80]
            events.append(json.loads(block.removeprefix("data: ")))
    return events


# ------------------------------------------------------------------ parsing


def test_openai_defaults() -> None:
    req = parse_openai_request({"model": "tts-1", "input": "你好", "voice": "alloy"}, MAX)
    assert req.audio_format is AudioFormat.MP3 and req.sample_rate == OPENAI_SAMPLE_RATE == 24000
    assert req.stream and not req.sse and req.speed_requested is None
    assert parse_openai_request({"input": "你好", "response_format": "flac"}, MAX).stream is False
    assert parse_openai_request({"input": "你好", "stream": False}, MAX).stream is False


@pytest.mark.parametrize(
    ("sent", "used"), [(0.25, contract.SPEED_RANGE[0]), (3.0, contract.SPEED_RANGE[1]), (1.5, 1.5)]
)
def test_speed_in_openais_range_is_clamped_to_the_models(sent: float, used: float) -> None:
    req = parse_openai_request({"input": "你好", "speed": sent}, MAX)
    assert req.params.speed == used
    assert req.speed_requested == (None if sent == used else sent)


def test_voice_object_instructions_and_stream_format() -> None:
    req = parse_openai_request(
        {
            "input": "你好",
            "voice": {"id": "baker"},
            "instructions": "Speak cheerfully.",
            "stream_format": "sse",
            "response_format": "flac",
            "stream": True,  # some clients send it with sse; it does not apply there
            "sample_rate": 16000,
        },
        MAX,
    )
    assert (req.voice, req.instructions, req.sse, req.sample_rate) == (
        "baker",
        "Speak cheerfully.",
        True,
        16000,
    )


@pytest.mark.parametrize(
    ("data", "param", "message"),
    [
        ({"speed": 4.5}, "speed", "outside its range \\[0.25, 4.0\\]"),
        ({"speed": 0.2}, "speed", "'speed' is 0.2"),
        ({"voice": {"name": "x"}}, "voice", "needs a string 'id'"),
        ({"voice": {"id": 3}}, "voice", "needs a string 'id'"),
        ({"stream_format": "websocket"}, "stream_format", "supported: audio, sse"),
        ({"instructions": 5}, "instructions", "'instructions' must be a string"),
        ({"response_format": "ogg"}, "response_format", "aac, flac, mp3, opus, pcm, wav"),
        ({"response_format": "opus", "sample_rate": 44100}, "sample_rate", "8000, 16000"),
        ({"response_format": "flac", "stream": True}, "stream", "flac cannot be streamed"),
        ({"model": 1}, "model", "'model' must be a string"),
    ],
)
def test_bad_openai_fields(data: dict[str, Any], param: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message) as raised:
        parse_openai_request({"input": "你好", **data}, MAX)
    assert error_param(raised.value) == param


def test_error_types_follow_the_status() -> None:
    assert [error_type(s) for s in (400, 401, 403, 404, 413, 429, 500, 503)] == [
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "invalid_request_error",
        "invalid_request_error",
        "rate_limit_error",
        "server_error",
        "server_error",
    ]
    with pytest.raises(TextTooLong) as raised:
        parse_openai_request({"input": "好" * (MAX + 1)}, MAX)
    assert error_param(raised.value) == "input"


# ------------------------------------------------------------------ the route


def test_default_is_24_khz_mp3_streamed() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(
            "/v1/audio/speech", json={"model": "tts-1", "input": TEXT, "voice": "alloy"}
        )
        assert resp.status == 200 and resp.headers["Content-Type"] == "audio/mpeg"
        assert resp.headers["Transfer-Encoding"] == "chunked"
        assert resp.headers["X-Sample-Rate"] == "24000" and "X-Speed-Clamped" not in resp.headers
        rate, samples = pyav_decode(await resp.read())
        assert rate == 24000 and samples > 0.5 * rate

    run(test)


@pytest.mark.parametrize(
    ("fmt", "media"),
    [
        ("opus", "audio/ogg; codecs=opus"),
        ("aac", "audio/aac"),
        ("flac", "audio/flac"),
        ("wav", "audio/wav"),
        ("pcm", "application/octet-stream"),
    ],
)
def test_every_response_format_at_24_khz(fmt: str, media: str) -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(
            "/v1/audio/speech", json={"input": TEXT, "voice": "alloy", "response_format": fmt}
        )
        assert resp.status == 200 and resp.headers["Content-Type"] == media
        data = await resp.read()
        wav = await client.post(
            "/v1/audio/speech", json={"input": TEXT, "response_format": "wav", "stream": False}
        )
        wav_rate, wav_samples, _ = soundfile_decode(await wav.read())
        assert wav_rate == 24000
        if fmt == "pcm":  # OpenAI's pcm: 24 kHz 16-bit little-endian, no header
            assert len(data) == 2 * wav_samples
            return
        rate, samples = pyav_decode(data)
        assert rate == (48000 if fmt == "opus" else 24000)
        slack = 2048 / 24000 if fmt == "aac" else 0.0  # ADTS cannot signal AAC's priming
        assert samples / rate == pytest.approx(wav_samples / 24000, rel=0.01, abs=slack)
        if fmt in ("flac", "wav"):
            assert soundfile_decode(data)[0] == 24000

    run(test)


def test_speed_outside_the_models_range_is_clamped_and_said() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(
            "/v1/audio/speech", json={"input": "你好。", "voice": "alloy", "speed": 3.0}
        )
        assert resp.status == 200
        assert float(resp.headers["X-Speed-Clamped"]) == contract.SPEED_RANGE[1]
        assert float(resp.headers["X-Speed-Requested"]) == 3.0
        assert synth.calls[-1][1].speed == contract.SPEED_RANGE[1]
        await resp.read()

    run(test)


def test_voice_object_and_instructions_are_accepted() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(
            "/v1/audio/speech",
            json={"input": "你好。", "voice": {"id": "baker"}, "instructions": "Whisper."},
        )
        assert resp.status == 200 and resp.headers["X-Voice"] == "baker"
        await resp.read()

    run(test)


def test_sse_events_carry_the_audio_then_usage() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(
            "/v1/audio/speech",
            json={
                "input": TEXT,
                "voice": "alloy",
                "response_format": "pcm",
                "stream_format": "sse",
            },
        )
        assert resp.status == 200 and resp.headers["Content-Type"] == "text/event-stream"
        events = sse_events(await resp.read())
        deltas, done = events[:-1], events[-1]
        assert len(deltas) >= 3 and {e["type"] for e in deltas} == {"speech.audio.delta"}
        assert all(set(e) == {"type", "audio"} for e in deltas)
        pcm = b"".join(base64.b64decode(e["audio"]) for e in deltas)
        whole = await client.post(
            "/v1/audio/speech", json={"input": TEXT, "response_format": "pcm", "stream": False}
        )
        assert pcm == await whole.read()  # the same 24 kHz samples as the plain response
        assert done["type"] == "speech.audio.done" and set(done) == {"type", "usage"}
        usage = done["usage"]
        assert usage["input_tokens"] == len(TEXT) and usage["output_tokens"] > 0
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]

    run(test)


def test_sse_of_a_whole_file_format_is_one_delta() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(
            "/v1/audio/speech",
            json={"input": TEXT, "response_format": "flac", "stream_format": "sse"},
        )
        events = sse_events(await resp.read())
        assert [e["type"] for e in events] == ["speech.audio.delta", "speech.audio.done"]
        assert soundfile_decode(base64.b64decode(events[0]["audio"]))[0] == 24000

    run(test)


def test_audio_starts_with_the_first_chunk() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        start = time.monotonic()
        resp = await client.post("/v1/audio/speech", json={"input": TEXT * 2, "voice": "alloy"})
        first = await resp.content.readany()
        first_s = time.monotonic() - start
        rest = await resp.read()
        total_s = time.monotonic() - start
        assert first and rest and resp.status == 200
        # 6 chunks of 0.3 s each, one at a time: the first bytes come after about one.
        assert first_s < total_s / 2, (first_s, total_s)

    run(test, FakeSynthesizer(delay_s=0.3), per_request_concurrency=1)


def test_sse_failure_after_the_first_event_is_an_error_event() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        text = "第一句话。" * 6 + "DOWN。" + "后面的话。" * 6
        resp = await client.post(
            "/v1/audio/speech",
            json={"input": text, "response_format": "wav", "stream_format": "sse"},
        )
        assert resp.status == 200
        body = b""
        try:
            async for data in resp.content.iter_any():
                body += data
        except Exception:  # the connection ends after the error event
            pass
        events = sse_events(body)
        assert events[0]["type"] == "speech.audio.delta"
        assert events[-1]["type"] == "error"
        assert set(events[-1]["error"]) == OPENAI_ERROR_KEYS - {"request_id"}
        assert events[-1]["error"]["type"] == "server_error"

    run(test, chunk_max_chars=5)


@pytest.mark.parametrize(
    ("kwargs", "status", "error_kind", "param"),
    [
        ({"json": {"input": "你好", "speed": 9}}, 400, "invalid_request_error", "speed"),
        ({"json": {"input": "你好", "voice": "nope"}}, 400, "invalid_request_error", "voice"),
        ({"json": {"voice": "alloy"}}, 400, "invalid_request_error", "input"),
        ({"data": b"{", "headers": {"Content-Type": "application/json"}}, 400, None, None),
        ({"json": {"input": "好" * 1001}}, 413, "invalid_request_error", "input"),
        ({"json": {"input": "DOWN"}}, 503, "server_error", None),
    ],
)
def test_errors_on_the_openai_route_are_in_openais_shape(
    kwargs: dict[str, Any], status: int, error_kind: str | None, param: str | None
) -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        headers = {"X-Request-Id": "r-1", **kwargs.get("headers", {})}
        body = {k: v for k, v in kwargs.items() if k != "headers"}
        resp = await client.post("/v1/audio/speech", headers=headers, **body)
        assert resp.status == status and resp.headers["X-Request-Id"] == "r-1"
        error = (await resp.json())["error"]
        assert set(error) == OPENAI_ERROR_KEYS and error["message"]
        assert error["type"] == (error_kind or "invalid_request_error")
        assert error["param"] == param and isinstance(error["code"], str)
        # The native route keeps its shape.
        native = await (await client.post("/v1/tts", json={"text": "你好", "speed": 9})).json()
        assert set(native["error"]) == {"code", "message", "request_id"}

    run(test)


def test_auth_and_method_errors_are_in_openais_shape_too() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post("/v1/audio/speech", json={"input": "你好"})
        assert resp.status == 401
        error = (await resp.json())["error"]
        assert set(error) == OPENAI_ERROR_KEYS and error["type"] == "authentication_error"
        resp = await client.get("/v1/audio/speech", headers={"Authorization": "Bearer k1"})
        assert resp.status == 405 and set((await resp.json())["error"]) == OPENAI_ERROR_KEYS
        ok = await client.post(
            "/v1/audio/speech", json={"input": "你好。"}, headers={"Authorization": "Bearer k1"}
        )
        assert ok.status == 200
        await ok.read()

    run(test, environ={"TTS_API_KEYS": "k1"})
