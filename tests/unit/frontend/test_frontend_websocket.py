"""GET /v1/tts/ws through aiohttp's test client with a fake synthesizer: the protocol, order,
timings, limits, keys and errors (tests/integration/test_websocket.py uses the real Triton)."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer
from frontend_helpers import SAMPLE_RATE, FakeSynthesizer

from frontend.app import ADMISSION_KEY, create_app
from frontend.config import FrontendConfig
from frontend.websocket import MAX_MESSAGE_BYTES, SUBPROTOCOL

TEXT = "春天来了，花开了，鸟儿在歌唱。我们一起去公园散步吧！今天的气温是23.5度，很舒服。"


def run(
    test: Callable[[TestClient, FakeSynthesizer], Awaitable[Any]],
    synth: FakeSynthesizer | None = None,
    environ: dict[str, str] | None = None,
    **config: Any,
) -> Any:
    synth = synth or FakeSynthesizer(0.002)
    cfg = FrontendConfig(**{"chunk_max_chars": 20, "max_text_chars": 1000, **config})

    async def main() -> Any:
        app = create_app(cfg, lambda _cfg: synth, environ or {})
        async with TestClient(TestServer(app)) as client:
            return await test(client, synth)

    return asyncio.run(main())


@dataclass
class Received:
    events: list[dict[str, Any]] = field(default_factory=list)
    audio: bytearray = field(default_factory=bytearray)
    close_code: int | None = None
    # Audio bytes received before each segment event (its position in the byte stream).
    audio_before: list[int] = field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


async def collect(ws: aiohttp.ClientWebSocketResponse, timeout_s: float = 30.0) -> Received:
    got = Received()
    async with asyncio.timeout(timeout_s):
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                event = json.loads(msg.data)
                got.events.append(event)
                if event["type"] == "segment":
                    got.audio_before.append(len(got.audio))
            elif msg.type is aiohttp.WSMsgType.BINARY:
                got.audio.extend(msg.data)
    got.close_code = ws.close_code
    return got


async def speak(
    client: TestClient, deltas: list[str], config: dict[str, Any] | None = None, pause_s: float = 0
) -> Received:
    async with client.ws_connect("/v1/tts/ws") as ws:
        await ws.send_json({"type": "config", **(config or {})})
        for delta in deltas:
            await ws.send_json({"type": "text", "text": delta})
            if pause_s:
                await asyncio.sleep(pause_s)
        await ws.send_json({"type": "close"})
        return await collect(ws)


def pieces(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_text_in_pieces_gives_ordered_audio_with_segment_timings() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        got = await speak(client, pieces(TEXT), pause_s=0.005)
        ready, *_ = got.events
        assert ready["type"] == "ready" and ready["sample_rate"] == SAMPLE_RATE
        assert ready["format"] == "pcm" and ready["voice"] == "baker"
        segments, (done,) = got.of("segment"), got.of("done")
        assert got.events[-1] == done and got.close_code == 1000
        # Every chunk synthesized once (batches run side by side, and the fake finishes later
        # chunks first), spoken in text order: the segment texts are the input.
        assert sorted(s["text"] for s in segments) == sorted(t for t, _ in synth.calls)
        assert "".join(s["text"] for s in segments) == TEXT
        assert [s["index"] for s in segments] == list(range(len(segments)))
        samples = np.frombuffer(bytes(got.audio), "<i2")
        assert done["audio_seconds"] == pytest.approx(samples.size / SAMPLE_RATE, abs=1e-3)
        assert done["characters"] == len(TEXT) and done["segments"] == len(segments)
        # Times are positions in the output: each segment's event comes right before its
        # audio, speech is where the samples are loud, pauses between are silent.
        for seg, before in zip(segments, got.audio_before, strict=True):
            start = round(seg["start"] * SAMPLE_RATE)
            end = round(seg["end"] * SAMPLE_RATE)
            assert abs(before // 2 - start) <= 1 or before // 2 < start
            assert abs(int(samples[start])) < 100  # faded in from silence
            assert np.abs(samples[start:end]).max() > 10_000
            assert (seg["end"] - seg["start"]) * SAMPLE_RATE > 100 * len(seg["text"]) * 0.5
        for a, b in zip(segments, segments[1:], strict=False):
            assert a["end"] < b["start"]
            gap = samples[round(a["end"] * SAMPLE_RATE) + 2 : round(b["start"] * SAMPLE_RATE)]
            assert gap.size > 0.1 * SAMPLE_RATE and np.abs(gap).max() < 400
        # No pause after the last segment.
        assert samples.size - round(segments[-1]["end"] * SAMPLE_RATE) <= SAMPLE_RATE // 1000

    run(test)


def test_the_first_clause_is_spoken_before_the_text_is_complete() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        async with client.ws_connect("/v1/tts/ws") as ws:
            await ws.send_json({"format": "pcm"})  # "type": "config" may be left out
            assert (await ws.receive_json())["type"] == "ready"
            await ws.send_json({"type": "text", "text": "你好，"})
            await ws.send_json({"type": "text", "text": "我是"})
            event = await asyncio.wait_for(ws.receive_json(), 5)
            assert event["type"] == "segment" and event["text"] == "你好，"
            audio = await asyncio.wait_for(ws.receive(), 5)
            assert audio.type is aiohttp.WSMsgType.BINARY and len(audio.data) > 0
            assert [t for t, _ in synth.calls] == ["你好，"]  # the rest waits for its mark
            await ws.send_json({"type": "flush"})  # speak what is buffered, now
            event = await asyncio.wait_for(ws.receive_json(), 5)
            assert event["text"] == "我是" and event["start"] > 0.2  # after the clause pause
            await ws.send_json({"type": "close"})
            got = await collect(ws)
            assert got.of("done") and got.close_code == 1000

    run(test)


def test_one_message_gives_the_samples_of_a_post() -> None:
    """All text at once: one batch, chunked and assembled exactly as POST /v1/tts."""

    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        post = await client.post("/v1/tts", json={"text": TEXT, "format": "pcm"})
        expected = await post.read()
        got = await speak(client, [TEXT])
        assert bytes(got.audio) == expected
        assert len(got.of("segment")) == int(post.headers["X-Chunks"])

    run(test)


def test_no_pause_where_an_over_long_clause_was_cut() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        clause = "我们今天在这里讨论一个非常重要的问题就是如何让机器说话" * 4  # 108, no marks
        got = await speak(client, pieces(clause + "。", 4))
        segments = got.of("segment")
        assert len(segments) >= 2 and "".join(s["text"] for s in segments) == clause + "。"
        for a, b in zip(segments, segments[1:], strict=False):
            assert b["start"] - a["end"] < 0.01  # no clause or sentence pause inserted

    run(test)


def test_the_config_lexicon_applies_and_events_show_plain_text() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        got = await speak(client, ["他很", "行，", "我们走。"], {"lexicon": {"行": "hang2"}})
        assert got.close_code == 1000
        sent = [t for t, _ in synth.calls]
        assert any("\ue000行\ue001hang2\ue002" in t for t in sent)  # a pronunciation span
        assert "".join(s["text"] for s in got.of("segment")) == "他很行，我们走。"

    run(test)


def test_formats_and_rates() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        wav = await speak(client, ["你好。"], {"format": "wav"})
        assert wav.audio[:4] == b"RIFF" and struct.unpack_from("<I", wav.audio, 24)[0] == 16000
        mulaw = await speak(client, ["你好。"], {"format": "mulaw"})
        assert mulaw.events[0]["sample_rate"] == 8000
        assert struct.unpack_from("<H", mulaw.audio, 20)[0] == 7  # WAVE_FORMAT_MULAW
        up = await speak(client, ["你好。"], {"format": "pcm", "sample_rate": 24000})
        assert up.events[0]["sample_rate"] == 24000
        seconds = up.of("done")[0]["audio_seconds"]
        assert len(up.audio) / 2 / 24000 == pytest.approx(seconds, abs=0.01)
        mp3 = await speak(client, ["你好。"], {"format": "mp3"})
        assert mp3.close_code == 1000 and len(mp3.audio) > 100

    run(test)


async def expect_error(
    client: TestClient, messages: list[Any], code: str, close: int, **connect: Any
) -> dict[str, Any]:
    async with client.ws_connect("/v1/tts/ws", **connect) as ws:
        for message in messages:
            if isinstance(message, bytes):
                await ws.send_bytes(message)
            elif isinstance(message, str):
                await ws.send_str(message)
            else:
                await ws.send_json(message)
        got = await collect(ws)
    (error,) = got.of("error")
    assert error["code"] == code, error
    assert got.events[-1] == error and got.close_code == close, got.close_code
    assert error["message"] and error["request_id"]
    return error


def test_bad_messages_get_an_error_event_and_a_close_code() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        await expect_error(client, ["{not json"], "invalid_json", 1007)
        await expect_error(client, [b"\x00\x01"], "unsupported_data", 1003)
        error = await expect_error(client, [{"voice": "nobody"}], "invalid_parameter", 1008)
        assert "baker" in error["message"]  # names the installed voices
        error = await expect_error(client, [{"speed": 9}], "invalid_parameter", 1008)
        assert error["param"] == "speed"
        error = await expect_error(client, [{"format": "flac"}], "invalid_parameter", 1008)
        assert "mp3" in error["message"]
        error = await expect_error(client, [{"vioce": "baker"}], "invalid_parameter", 1008)
        assert "'vioce'" in error["message"]
        await expect_error(client, [{"type": "text", "text": "你好"}], "protocol_error", 1008)
        await expect_error(client, [{}, {"type": "shout"}], "protocol_error", 1008)
        await expect_error(client, [{}, {"type": "config"}], "protocol_error", 1008)
        await expect_error(client, [{}, {"type": "text", "text": 5}], "invalid_parameter", 1008)
        big = {"type": "text", "text": "好" * (MAX_MESSAGE_BYTES // 3 + 10)}
        await expect_error(client, [{}, big], "message_too_large", 1009)
        over: list[Any] = [{}] + [{"type": "text", "text": "好" * 300}] * 4  # max_text_chars 1000
        await expect_error(client, over, "text_too_long", 1009)
        assert synth.running == 0

    run(test)


def test_backend_errors_end_the_session_with_the_http_code() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        messages = [{}, {"type": "text", "text": "这句BAD了。"}, {"type": "close"}]
        await expect_error(client, messages, "text_rejected", 1008)
        messages = [{}, {"type": "text", "text": "你好。DOWN了。"}, {"type": "close"}]
        await expect_error(client, messages, "backend_unavailable", 1013)

    run(test, retry_backoff_s=0.001)


def test_an_idle_session_is_closed_but_a_listening_one_is_not() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        error = await expect_error(client, [{}], "idle_timeout", 1008)
        assert "0.3 s" in error["message"]
        # Synthesis slower than the idle timeout: the client waits for audio, not idle.
        synth.delay_s = 1.0
        async with client.ws_connect("/v1/tts/ws") as ws:
            await ws.send_json({})
            await ws.send_json({"type": "text", "text": "你好，世界。"})
            await asyncio.sleep(0.7)
            await ws.send_json({"type": "close"})
            got = await collect(ws)
        assert got.of("done") and not got.of("error")

    run(test, ws_idle_timeout_s=0.3)


def test_a_client_far_ahead_is_slowed_down_not_dropped() -> None:
    """Backpressure: beyond ws_max_pending_chars the server stops reading; everything is
    still spoken, in order."""

    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        text = "今天天气很好，我们去公园。" * 12
        got = await speak(client, pieces(text, 5))
        assert got.close_code == 1000 and not got.of("error")
        assert "".join(s["text"] for s in got.of("segment")) == text
        assert synth.peak <= 8

    run(test, FakeSynthesizer(0.02), ws_max_pending_chars=30)


def test_api_keys_by_header_query_or_subprotocol() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/v1/tts/ws")
        assert refused.value.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await client.ws_connect("/v1/tts/ws?api_key=wrong")
        for connect in (
            {"headers": {"Authorization": "Bearer k1"}},
            {"params": {"api_key": "k1"}},
            {"protocols": (SUBPROTOCOL, "api-key.k1")},
        ):
            async with client.ws_connect("/v1/tts/ws", **connect) as ws:
                if "protocols" in connect:
                    assert ws.protocol == SUBPROTOCOL  # the key is never echoed
                await ws.send_json({})
                await ws.send_json({"type": "text", "text": "你好。"})
                await ws.send_json({"type": "close"})
                assert (await collect(ws)).close_code == 1000
        # The query key is for the WebSocket only.
        resp = await client.post("/v1/tts?api_key=k1", json={"text": "你好。"})
        assert resp.status == 401

    run(test, environ={"TTS_API_KEYS": "k1"})


def test_handshake_refusals_are_json_http_errors() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.get("/v1/tts/ws")
        assert resp.status == 426 and (await resp.json())["error"]["code"] == "upgrade_required"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/v1/tts/ws", headers={"Origin": "https://evil.example"})
        assert refused.value.status == 403
        same = f"http://{client.host}:{client.port}"
        async with client.ws_connect("/v1/tts/ws", headers={"Origin": same}) as ws:
            await ws.send_json({})
            assert (await ws.receive_json())["type"] == "ready"
            # One admission slot per session: the only slot is taken.
            with pytest.raises(aiohttp.WSServerHandshakeError) as busy:
                await client.ws_connect("/v1/tts/ws")
            assert busy.value.status == 429
        await asyncio.sleep(0.05)
        assert client.app is not None and client.app[ADMISSION_KEY].active == 0

    run(test, max_active_requests=1)


def test_a_client_that_leaves_cancels_its_synthesis() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        async with client.ws_connect("/v1/tts/ws") as ws:
            await ws.send_json({})
            await ws.send_json({"type": "text", "text": "今天天气很好，我们去公园。" * 10})
            await ws.receive_json()  # ready
            await asyncio.sleep(0.3)
        assert client.app is not None
        admission = client.app[ADMISSION_KEY]
        for _ in range(50):
            await asyncio.sleep(0.05)
            if synth.running == 0 and admission.active == 0:
                break
        assert synth.running == 0 and admission.active == 0
        assert len(synth.calls) < 20  # the rest was never sent to the backend

    run(test, FakeSynthesizer(0.2))
