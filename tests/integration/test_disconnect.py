"""Clients that disconnect give everything back at once (the real frontend process, started
as `make serve` starts it, against the session's real tritonserver):

- storm: 200 long streaming requests cut 0.3 s after they were sent; a new request is
  served within 2 s and no admission slot is held;
- cut mid-stream: 16 (every slot) cut 0.3 s after their first audio, with chunk calls
  queued and running in Triton; those are cancelled, so a new request waits only for the
  work already executing."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator

import aiohttp
import pytest
from frontend_process_helpers import SHORT_TEXTS, FrontendProcess

pytestmark = pytest.mark.integration

STORM = 200
ADMITTED = 16  # the frontend's max_active_requests
CUT_AFTER_S = 0.3
SERVED_WITHIN_S = 2.0
# Long enough that a request is far from done when cut (about 80 s of audio).
LONG_TEXT = "".join(SHORT_TEXTS) * 6


@pytest.fixture(scope="module")
def frontend(triton_server, tmp_path_factory) -> Iterator[FrontendProcess]:
    """The frontend with slot-only admission: every slot is to hold a long stream when it
    is cut (the work-aware limit would admit only the few that can be served soon)."""
    proc = FrontendProcess(
        triton_server.grpc_url,
        "--max-backlog-s",
        "0",
        log_dir=tmp_path_factory.mktemp("frontend-slots-only"),
    )
    try:
        yield proc.start()
    finally:
        proc.stop()


async def cut_request(session: aiohttp.ClientSession, url: str, speed: float) -> str:
    """A streaming request abandoned CUT_AFTER_S after it started: its status if it was
    answered by then (429 for the ones refused), else 'cut'."""

    async def start() -> str:
        async with session.post(
            url + "/v1/tts", json={"text": LONG_TEXT, "stream": True, "speed": speed}
        ) as response:
            status = str(response.status)
            await response.content.read(1024)  # begin reading, then go away
            return status

    try:
        return await asyncio.wait_for(start(), CUT_AFTER_S)
    except asyncio.TimeoutError:
        return "cut"


async def streaming_then_cut(session: aiohttp.ClientSession, url: str, speed: float) -> str:
    """A streaming request abandoned CUT_AFTER_S after its first audio arrived: by then its
    chunk calls are queued and running in Triton."""
    async with session.post(
        url + "/v1/tts", json={"text": LONG_TEXT, "stream": True, "speed": speed}
    ) as response:
        if response.status != 200:
            return str(response.status)
        await response.content.readany()
        await asyncio.sleep(CUT_AFTER_S)
        response.close()  # the connection goes away mid-stream
        return "cut"


def active_requests(metrics: str) -> float:
    match = re.search(r"^tts_frontend_active_requests (\S+)$", metrics, re.MULTILINE)
    assert match, "no active-requests gauge in /metrics"
    return float(match.group(1))


async def fresh_request_s(
    session: aiohttp.ClientSession, url: str, speed: float, text: str = "欢迎再次光临。"
) -> float:
    """Seconds to serve `text` (its own speed: the response cache cannot answer)."""
    start = time.monotonic()
    async with session.post(url + "/v1/tts", json={"text": text, "speed": speed}) as response:
        body = await response.read()
        assert response.status == 200, body[:300]
        assert len(body) > 16_000, "not a plausible WAV of a short sentence"
    return time.monotonic() - start


async def storm_then_one(url: str, streaming: bool) -> tuple[dict[str, int], float, float, float]:
    # One connection per request: a cut closes it, as a client that goes away does.
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        # What one full chunk costs now (30 characters, the chunker's maximum).
        chunk_s = await fresh_request_s(session, url, 1.2 + 0.01 * streaming, LONG_TEXT[:30])
        if streaming:
            outcomes = await asyncio.gather(
                *(
                    streaming_then_cut(session, url, round(0.8 + i * 1e-3, 4))
                    for i in range(ADMITTED)
                )
            )
        else:
            outcomes = await asyncio.gather(
                *(cut_request(session, url, round(0.9 + i * 1e-3, 4)) for i in range(STORM))
            )
        counts = {status: outcomes.count(status) for status in set(outcomes)}
        served_s = await fresh_request_s(session, url, 1.13 + 0.01 * streaming)
        async with session.get(url + "/metrics") as response:
            active = active_requests(await response.text())
    return counts, chunk_s, served_s, active


@pytest.mark.slow
@pytest.mark.parametrize("streaming", [False, True], ids=["storm", "cut-mid-stream"])
def test_a_disconnect_storm_gives_everything_back(
    frontend: FrontendProcess, streaming: bool
) -> None:
    """storm: STORM requests cut CUT_AFTER_S after they were sent (on 2 loaded cores most
    are still reading or chunking then); cut-mid-stream: ADMITTED requests cut CUT_AFTER_S
    after their first audio, with chunk calls queued and running in Triton."""
    counts, chunk_s, served_s, active = asyncio.run(storm_then_one(frontend.url, streaming))
    print(f"\n{counts}; next request served in {served_s:.2f} s (a full chunk: {chunk_s:.2f} s)")
    if os.environ.get("SHOW_FRONTEND_LOG"):
        print(frontend.log_tail(80))
    expected_cut = ADMITTED if streaming else 8
    assert counts.get("cut", 0) >= expected_cut, counts  # the admitted ones were really cut
    assert set(counts) <= {"cut", "200", "429"}, counts
    # Cut mid-stream, what Triton is executing at the cut cannot be stopped (one chunk per
    # vocoder instance, inside onnxruntime) and finishes first; everything queued is
    # cancelled. Without cancellation the abandoned chunks ahead took ~20 s here.
    bound = SERVED_WITHIN_S + (chunk_s if streaming else 0.0)
    assert served_s < bound, f"served after {served_s:.2f} s:\n{frontend.log_tail(60)}"
    assert active == 0, "cut requests still hold admission slots"
    # The frontend is healthy and Triton survived the cancellations.
    assert frontend.get_status("/healthz") == 200, frontend.log_tail()
