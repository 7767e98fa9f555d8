"""HTTP handlers through aiohttp's test client, with a fake synthesizer injected."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import numpy as np
import pytest
import soundfile as sf
from aiohttp.test_utils import TestClient, TestServer
from frontend_helpers import SAMPLE_RATE, FakeSynthesizer

from frontend.app import ADMISSION_KEY, create_app
from frontend.config import FrontendConfig
from frontend.encoding import UNKNOWN_SIZE

LONG_TEXT = "春天来了，花开了，鸟儿在歌唱。" * 20  # 300 characters, many chunks


def run(
    test: Callable[[TestClient, FakeSynthesizer], Awaitable[Any]],
    synth: FakeSynthesizer | None = None,
    **config: Any,
) -> Any:
    synth = synth or FakeSynthesizer()
    cfg = FrontendConfig(**{"chunk_max_chars": 20, "max_text_chars": 1000, **config})

    async def main() -> Any:
        app = create_app(cfg, lambda _cfg: synth)
        async with TestClient(TestServer(app)) as client:
            return await test(client, synth)

    return asyncio.run(main())


def test_tts_returns_a_wav_of_the_assembled_length() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post("/v1/tts", json={"text": LONG_TEXT})
        assert resp.status == 200 and resp.content_type == "audio/wav"
        body = await resp.read()
        data, rate = sf.read(io.BytesIO(body), dtype="int16")
        assert rate == SAMPLE_RATE
        assert data.size / rate == pytest.approx(float(resp.headers["X-Audio-Duration"]), abs=1e-3)
        assert int(resp.headers["X-Chunks"]) == len(synth.calls) > 10
        assert len(resp.headers["X-Request-Id"]) >= 8
        # Chunk audio (100 samples/char) plus pauses: longer than the chunks alone.
        assert data.size > sum(synth.length_of(t) for t, _ in synth.calls)

    run(test)


def test_stream_delivers_the_same_samples_as_whole_file() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        whole = await (await client.post("/v1/tts", json={"text": LONG_TEXT, "speed": 1.5})).read()
        resp = await client.post("/v1/tts", json={"text": LONG_TEXT, "speed": 1.5, "stream": True})
        assert resp.status == 200 and resp.headers.get("Transfer-Encoding") == "chunked"
        streamed = await resp.read()
        assert int.from_bytes(streamed[40:44], "little") == UNKNOWN_SIZE
        assert streamed[44:] == whole[44:]

    run(test)


def test_speed_pitch_energy_reach_the_synthesizer_and_volume_scales() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        loud = await (await client.post("/v1/tts", json={"text": "你好。", "format": "wav"})).read()
        quiet = await (
            await client.post(
                "/v1/tts",
                json={"text": "你好。", "volume": 0.5, "speed": 0.8, "pitch": 1.2, "energy": 0.9},
            )
        ).read()
        _, params = synth.calls[-1]
        assert (params.speed, params.pitch, params.energy) == (0.8, 1.2, 0.9)
        peak = lambda b: int(np.max(np.abs(np.frombuffer(b[44:], "<i2").astype(int))))  # noqa: E731
        assert peak(quiet) == pytest.approx(peak(loud) / 2, rel=0.01)

    run(test)


@pytest.mark.parametrize(("fmt", "container"), [("flac", "FLAC"), ("ogg", "OGG")])
def test_compressed_formats(fmt: str, container: str) -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post("/v1/tts", json={"text": "你好，世界。", "format": fmt})
        assert resp.status == 200
        assert sf.info(io.BytesIO(await resp.read())).format == container

    run(test)


def test_openai_route() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(
            "/v1/audio/speech",
            json={"model": "tts-1", "input": "你好。", "voice": "alloy", "response_format": "pcm"},
        )
        assert resp.status == 200
        pcm = await resp.read()
        # OpenAI's pcm is 24 kHz: the 16 kHz voice's audio comes out 1.5 times as many samples.
        assert resp.headers["X-Sample-Rate"] == "24000"
        assert len(pcm) % 2 == 0 and len(pcm) // 2 >= 1.5 * (synth.length_of("你好。") - 1000)
        resp = await client.post(
            "/v1/audio/speech", json={"input": "你好。", "response_format": "wma"}
        )
        assert resp.status == 400
        error = (await resp.json())["error"]
        assert "supported: aac, flac, mp3, opus, pcm, wav" in error["message"]
        assert (error["type"], error["param"]) == ("invalid_request_error", "response_format")

    run(test)


BAD_INPUTS = [
    # (route, kwargs for client.post, status, code)
    (
        "/v1/tts",
        {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
        400,
        "invalid_json",
    ),
    (
        "/v1/tts",
        {"data": b"text=hello", "headers": {"Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
    ("/v1/tts", {"json": {"text": "好" * 1001}}, 413, "text_too_long"),
    ("/v1/tts", {"json": {"text": "好", "pad": "x" * 300_000}}, 413, "body_too_large"),
    ("/v1/tts", {"json": {"text": "你好", "speed": 5}}, 400, "invalid_parameter"),
    ("/v1/tts", {"json": {"text": "你好", "format": "wma"}}, 400, "invalid_parameter"),
    ("/v1/tts", {"json": {"text": "。。。"}}, 400, "invalid_parameter"),
    ("/v1/tts", {"json": {"text": "这一句BAD"}}, 400, "text_rejected"),
    ("/v1/tts", {"json": {"text": "DOWN"}}, 503, "backend_unavailable"),
    ("/nope", {"json": {}}, 404, "not_found"),
]


@pytest.mark.parametrize(("route", "kwargs", "status", "code"), BAD_INPUTS)
def test_bad_inputs_get_json_errors_and_service_keeps_serving(
    route: str, kwargs: dict, status: int, code: str
) -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(route, **kwargs)
        assert resp.status == status
        error = (await resp.json())["error"]
        assert error["code"] == code and error["message"]
        assert error["request_id"] == resp.headers["X-Request-Id"]
        if status == 503:
            assert int(resp.headers["Retry-After"]) > 0
        ok = await client.post("/v1/tts", json={"text": "你好。"})
        assert ok.status == 200

    run(test)


def test_client_request_id_is_echoed() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(
            "/v1/tts", json={"text": "你好。"}, headers={"X-Request-Id": "abc-42"}
        )
        assert resp.headers["X-Request-Id"] == "abc-42"
        resp = await client.post(
            "/v1/tts", json={"text": "你好。"}, headers={"X-Request-Id": "bad id\u00e9"}
        )
        assert resp.headers["X-Request-Id"] != "bad id\u00e9"

    run(test)


def test_overload_is_refused_with_429() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        slow = asyncio.ensure_future(client.post("/v1/tts", json={"text": LONG_TEXT}))
        await asyncio.sleep(0.05)
        resp = await client.post("/v1/tts", json={"text": "你好。"})
        assert resp.status == 429 and (await resp.json())["error"]["code"] == "overloaded"
        assert "Retry-After" in resp.headers
        assert (await slow).status == 200
        assert (await client.post("/v1/tts", json={"text": "你好。"})).status == 200

    run(test, FakeSynthesizer(delay_s=0.05), max_active_requests=1)


def test_overload_retry_after_follows_the_service_time() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        admission = client.app[ADMISSION_KEY]
        assert (await client.post("/v1/tts", json={"text": "你好。"})).status == 200
        assert admission.mean_service_s is not None and admission.mean_service_s > 0
        admission.mean_service_s = 7.5  # as if requests had been taking 7.5 s
        slow = asyncio.ensure_future(client.post("/v1/tts", json={"text": LONG_TEXT}))
        await asyncio.sleep(0.05)
        resp = await client.post("/v1/tts", json={"text": "你好。"})
        assert resp.status == 429 and resp.headers["Retry-After"] == "8"
        assert (await slow).status == 200

    run(test, FakeSynthesizer(delay_s=0.05), max_active_requests=1)


def test_mid_stream_failure_truncates_the_body() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        text = "第一句话。" * 10 + "DOWN。" + "后面的话。" * 10
        resp = await client.post("/v1/tts", json={"text": text, "stream": True})
        assert resp.status == 200  # the first chunk was fine, headers went out
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
        assert (await client.post("/v1/tts", json={"text": "你好。"})).status == 200

    run(test, chunk_max_chars=5)


def test_healthz_follows_the_end_to_end_probe() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.get("/healthz")
        assert resp.status == 200 and (await resp.json())["status"] == "ready"
        synth.available = False
        resp = await client.get("/healthz")
        assert resp.status == 503 and (await resp.json())["status"] == "unavailable"
        synth.available = True
        assert (await client.get("/healthz")).status == 200

    run(test, health_probe_interval_s=0.0)


def test_metrics_count_requests_errors_and_audio() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        await client.post("/v1/tts", json={"text": "你好。"})
        await client.post("/v1/tts", json={"text": "你好", "speed": 9})
        text = await (await client.get("/metrics")).text()
        assert 'tts_frontend_requests_total{route="tts",status="200"} 1.0' in text
        assert 'tts_frontend_requests_total{route="tts",status="400"} 1.0' in text
        assert 'tts_frontend_errors_total{code="invalid_parameter"} 1.0' in text
        assert "tts_frontend_first_audio_seconds_count" in text
        audio = [
            line
            for line in text.splitlines()
            if line.startswith("tts_frontend_audio_seconds_total")
        ]
        assert float(audio[0].split()[-1]) > 0

    run(test)


def test_web_page_and_limits() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        page = await (await client.get("/")).text()
        assert "<textarea" in page and "/static/app.js" in page
        assert (await client.get("/static/app.js")).status == 200
        limits = await (await client.get("/v1/limits")).json()
        assert limits["max_text_chars"] == 1000
        assert {"mp3", "mulaw", "ogg"} <= set(limits["formats"])
        assert limits["timestamps"]["subtitles"] == ["srt", "vtt"]
        assert limits["timestamps"]["streaming"] is False
        assert isinstance(limits["timestamps"]["voices"], list)
        assert (await client.get("/static/highlight.js")).status == 200
        assert 'id="highlight-toggle"' in page
        assert json.dumps(limits)

    run(test)
