"""GET /v1/tts/ws against the real service (tritonserver + the frontend process): text arrives
in small pieces as from an LLM, audio comes back in order while it is still arriving."""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
import soundfile as sf
from frontend_process_helpers import (
    MAX_SECONDS_PER_CHAR,
    MIN_SECONDS_PER_CHAR,
    PROJECT_ROOT,
    FrontendProcess,
)

from frontend.chunking import CLAUSE_PUNCT, SENTENCE_PUNCT

pytestmark = pytest.mark.integration

TEXT = (
    "您好，欢迎致电客服中心。我是您的智能助理，很高兴为您服务。"
    "您的订单已于今天下午3点发出，预计明天上午送达，快递员会提前给您打电话。"
    "如果您不在家，可以让快递员把包裹放在小区门口的快递柜里，取件码会通过短信发给您。"
    "另外，您上个月购买的那台洗衣机还在保修期内，如有问题可以随时联系我们。"
    "请问还有什么可以帮您的吗？"
)
# Generous bound for a shared 2-core machine where other jobs run too (2.5 s was seen at a
# load average of 13); the figure measured is printed. The target on an idle cpu-2 tier is 1 s.
FIRST_AUDIO_LIMIT_S = 5.0


@dataclass
class Session:
    events: list[dict[str, Any]] = field(default_factory=list)
    audio: bytearray = field(default_factory=bytearray)
    close_code: int | None = None
    first_clause_sent_at: float | None = None
    first_audio_at: float | None = None
    started_at: float = 0.0
    done_at: float | None = None
    # Audio bytes received before each segment event.
    audio_before: list[int] = field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


def llm_deltas(text: str, seed: int = 0) -> list[str]:
    """2-5 characters at a time, like an LLM's token stream."""
    rng = random.Random(seed)
    deltas, i = [], 0
    while i < len(text):
        n = rng.randint(2, 5)
        deltas.append(text[i : i + n])
        i += n
    return deltas


async def _receive(ws: aiohttp.ClientWebSocketResponse, session: Session) -> None:
    async for msg in ws:
        if msg.type is aiohttp.WSMsgType.BINARY:
            if session.first_audio_at is None:
                session.first_audio_at = time.monotonic()
            session.audio.extend(msg.data)
        elif msg.type is aiohttp.WSMsgType.TEXT:
            event = json.loads(msg.data)
            session.events.append(event)
            if event["type"] == "segment":
                session.audio_before.append(len(session.audio))
            if event["type"] == "done":
                session.done_at = time.monotonic()
    session.close_code = ws.close_code


async def stream_text(
    url: str,
    deltas: list[str],
    config: dict[str, Any] | None = None,
    interval_s: float = 0.05,
    **connect: Any,
) -> Session:
    session = Session()
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url.replace("http", "ws", 1) + "/v1/tts/ws", **connect) as ws,
    ):
        await ws.send_json({"type": "config", **(config or {})})
        receiver = asyncio.ensure_future(_receive(ws, session))
        session.started_at = time.monotonic()
        for delta in deltas:
            await ws.send_json({"type": "text", "text": delta})
            marks = SENTENCE_PUNCT | CLAUSE_PUNCT
            if session.first_clause_sent_at is None and any(c in marks for c in delta):
                session.first_clause_sent_at = time.monotonic()
            await asyncio.sleep(interval_s)
        await ws.send_json({"type": "close"})
        await asyncio.wait_for(receiver, 300)
    return session


def post_pcm(url: str, text: str) -> np.ndarray:
    import urllib.request

    body = json.dumps({"text": text, "format": "pcm"}).encode("utf-8")
    request = urllib.request.Request(
        url + "/v1/tts", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return np.frombuffer(response.read(), "<i2")


def test_text_streamed_like_an_llm_is_spoken_in_order_while_it_arrives(
    frontend: FrontendProcess,
) -> None:
    deltas = llm_deltas(TEXT)
    session = asyncio.run(stream_text(frontend.url, deltas))
    assert session.close_code == 1000, session.events[-1:]
    (ready,), (done,) = session.of("ready"), session.of("done")
    rate = ready["sample_rate"]
    assert rate == 16000 and ready["format"] == "pcm"
    segments = session.of("segment")
    assert "".join(s["text"] for s in segments) == TEXT  # every character, in order
    samples = np.frombuffer(bytes(session.audio), "<i2").astype(np.float64)
    seconds = samples.size / rate
    assert done["audio_seconds"] == pytest.approx(seconds, abs=1e-3)
    assert MIN_SECONDS_PER_CHAR * len(TEXT) < seconds < MAX_SECONDS_PER_CHAR * len(TEXT)
    assert session.first_clause_sent_at is not None and session.first_audio_at is not None
    assert session.done_at is not None
    first_audio_s = session.first_audio_at - session.first_clause_sent_at
    sending_s = len(deltas) * 0.05
    total_s = session.done_at - session.started_at
    print(
        f"\nwebsocket: {len(TEXT)} chars in {len(deltas)} deltas over {sending_s:.2f} s; "
        f"first audio {first_audio_s:.3f} s after the first complete clause; "
        f"all {seconds:.2f} s of audio in {total_s:.2f} s; {len(segments)} segments"
    )
    assert first_audio_s < FIRST_AUDIO_LIMIT_S
    # The first clause was spoken on its own, as soon as its comma arrived, not with the rest.
    assert segments[0]["text"] == "您好，"
    # Each segment's audio is that text's speech: the same as POST /v1/tts of its text
    # alone, at the position its event gives. (Segments of one clause: a POST of several
    # would cut its first clause off to shorten its first audio. First, middle and last of
    # them, to keep this short.)
    marks = SENTENCE_PUNCT | CLAUSE_PUNCT
    single = [i for i, s in enumerate(segments) if not any(c in marks for c in s["text"][:-1])]
    assert len(single) >= 3
    for index in sorted({single[0], single[len(single) // 2], single[-1]}):
        segment = segments[index]
        start = round(segment["start"] * rate)
        # The event's times are in milliseconds: the speech starts within half of one.
        slack = rate // 2000 + 1
        assert session.audio_before[index] <= 2 * (start + slack)  # the event came first
        alone = post_pcm(frontend.url, segment["text"]).astype(np.float64)
        errors = [
            np.abs(samples[at : at + alone.size] - alone).max() / 32767
            for at in range(max(start - slack, 0), start + slack + 1)
            if at + alone.size <= samples.size
        ]
        # Batched with other chunks inside Triton, a chunk may differ by rounding only.
        assert min(errors) < 0.02, (segment, min(errors))
        assert abs((segment["end"] - segment["start"]) * rate - alone.size) < 0.002 * rate


def test_compressed_audio_over_the_websocket_decodes_to_the_same_duration(
    frontend: FrontendProcess,
) -> None:
    text = "今天天气真好，适合出去散步。"
    session = asyncio.run(
        stream_text(frontend.url, llm_deltas(text), {"format": "mp3", "sample_rate": 24000}, 0.02)
    )
    assert session.close_code == 1000
    audio, rate = sf.read(io.BytesIO(bytes(session.audio)))
    assert rate == 24000
    seconds = session.of("done")[0]["audio_seconds"]
    # A streamed MP3 has no gapless header: a decoder keeps the encoder's delay and padding
    # (at most two frames).
    assert seconds * 0.99 <= audio.size / rate <= seconds * 1.01 + 2 * 1152 / rate


async def _error_of(url: str, messages: list[Any], **connect: Any) -> tuple[dict[str, Any], int]:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url.replace("http", "ws", 1) + "/v1/tts/ws", **connect) as ws,
    ):
        for message in messages:
            if isinstance(message, str):
                await ws.send_str(message)
            else:
                await ws.send_json(message)
        events = [json.loads(m.data) async for m in ws if m.type is aiohttp.WSMsgType.TEXT]
        assert ws.close_code is not None
        return events[-1], ws.close_code


@pytest.mark.parametrize(
    ("messages", "code", "close"),
    [
        (["{oops"], "invalid_json", 1007),
        ([{"voice": "nobody"}], "invalid_parameter", 1008),
        ([{}, {"type": "text", "text": "长" * 40_000}], "message_too_large", 1009),
        ([{}, {"type": "text", "text": "你好。"}, {"type": "sing"}], "protocol_error", 1008),
    ],
    ids=["bad-json", "unknown-voice", "oversize", "bad-message"],
)
def test_errors_are_events_with_close_codes(
    frontend: FrontendProcess, messages: list[Any], code: str, close: int
) -> None:
    event, close_code = asyncio.run(_error_of(frontend.url, messages))
    assert event["type"] == "error" and event["code"] == code, event
    assert close_code == close
    assert frontend.get_status("/healthz") == 200  # the service is unharmed


def test_api_keys_on_the_websocket(triton_server: Any, tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("sesame\n", encoding="utf-8")
    proc = FrontendProcess(triton_server.grpc_url, "--api-keys-file", str(keys), log_dir=tmp_path)
    try:
        proc.start()

        async def attempts() -> tuple[int, int, int]:
            statuses = []
            for connect in ({}, {"params": {"api_key": "wrong"}}):
                try:
                    await _error_of(proc.url, [{}], **connect)
                    statuses.append(101)
                except aiohttp.WSServerHandshakeError as error:
                    statuses.append(error.status)
            session = await stream_text(
                proc.url, ["你好。"], protocols=("tts.v1", "api-key.sesame")
            )
            return statuses[0], statuses[1], session.close_code or 0

        assert asyncio.run(attempts()) == (401, 401, 1000)
    finally:
        proc.stop()


def test_the_websocket_example_streams_text_to_a_file(
    frontend: FrontendProcess, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "client.examples.ws_stream", frontend.url],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    info = sf.info(str(tmp_path / "hello_ws.wav"))
    assert info.samplerate == 16000 and info.duration > 1.0
    assert "first audio" in run.stdout
