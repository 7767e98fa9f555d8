"""Graceful shutdown: after SIGTERM new requests get 503, those in flight finish, then exit."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import soundfile as sf
from frontend_helpers import FakeSynthesizer

from frontend.__main__ import serve
from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.shutdown import DRAIN_KEY, Drain
from mandarin_tts.serving.ports import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TEXT = "春天来了，花开了，鸟儿在歌唱。" * 3


def test_drain_waits_for_the_requests_in_flight_up_to_the_grace_period() -> None:
    async def main() -> tuple[bool, bool]:
        drain = Drain()
        drain.enter()
        drain.begin()
        timed_out = await drain.wait_idle(0.05)
        asyncio.get_running_loop().call_later(0.05, drain.leave)
        return timed_out, await drain.wait_idle(5.0)

    assert asyncio.run(main()) == (False, True)


def test_sigterm_refuses_new_requests_and_finishes_the_running_one() -> None:
    port = free_port()
    config = FrontendConfig(
        port=port, chunk_max_chars=20, max_text_chars=1000, shutdown_grace_s=30.0
    )
    synth = FakeSynthesizer(delay_s=0.3)  # several chunks: the request takes about a second
    base = f"http://127.0.0.1:{port}"

    async def main() -> None:
        app = create_app(config, lambda _cfg: synth, {})
        server = asyncio.create_task(serve(config, app))
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{base}/v1/limits") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            running = asyncio.create_task(session.post(f"{base}/v1/tts", json={"text": TEXT}))
            while app[DRAIN_KEY].in_flight == 0:
                await asyncio.sleep(0.01)
            os.kill(os.getpid(), signal.SIGTERM)
            while not app[DRAIN_KEY].draining:
                await asyncio.sleep(0.01)
            async with session.post(f"{base}/v1/tts", json={"text": "你好"}) as refused:
                assert refused.status == 503
                assert (await refused.json())["error"]["code"] == "shutting_down"
                assert int(refused.headers["Retry-After"]) >= 1
            async with session.get(f"{base}/healthz") as health:
                assert health.status == 503
            async with await running as resp:
                assert resp.status == 200
                audio, _ = sf.read(io.BytesIO(await resp.read()), dtype="int16")
            duration = float(resp.headers["X-Audio-Duration"])
            assert abs(audio.size / synth.sample_rate - duration) < 1e-3
            assert audio.size > sum(synth.length_of(t) for t, _ in synth.calls)
        assert await asyncio.wait_for(server, 30) is True

    asyncio.run(main())


def test_the_command_line_server_exits_cleanly_on_sigterm() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontend", "--port", str(port), "--triton-grpc", "127.0.0.1:1"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/limits", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        assert proc.poll() is None, "the frontend did not start"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output.decode(errors="replace")[-2000:]
    assert b"shutting down" in output and b"stopped" in output
