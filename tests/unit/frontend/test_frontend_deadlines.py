"""Deadlines and cancellation in the frontend: each Triton call's timeout follows its cost
and the request's deadline (X-Request-Timeout), an expired request stops its work and gets
504 + Retry-After, and a client that disconnects frees its slot and its chunk calls."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
from aiohttp import ClientTimeout
from aiohttp.test_utils import TestClient, TestServer
from frontend_helpers import FlakySynthesizer, tone

from frontend import triton_client
from frontend.app import ADMISSION_KEY, HEALTH_KEY, METRICS_KEY, create_app
from frontend.config import FrontendConfig
from frontend.deadline import (
    CallCost,
    Deadline,
    DeadlineExceeded,
    call_cost,
    call_timeout_s,
    deadline_scope,
    parse_request_timeout,
)
from frontend.errors import InvalidParameter, TritonUnavailable
from frontend.health import HealthProbe
from frontend.retry import RetryBudget, RetryingSynthesizer, RetryPolicy
from frontend.synthesis import VoiceParams
from frontend.triton_client import TritonSynthesizer

TEXT = "春天来了，花开了，鸟儿在歌唱。" * 4  # several chunks at chunk_max_chars=20


class SlowSynthesizer:
    """Every call takes `delay_s`; records calls started, finished and cancelled."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.started = 0
        self.finished = 0
        self.cancelled = 0

    async def synthesize(self, text: str, params: VoiceParams) -> np.ndarray:
        self.started += 1
        try:
            await asyncio.sleep(self.delay_s)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.finished += 1
        return tone(100 * len(text))


def run_app(synth: Any, test: Any, server_kwargs: dict[str, Any] | None = None, **cfg: Any) -> Any:
    config = FrontendConfig(**{"chunk_max_chars": 20, "retry_backoff_s": 0.0, **cfg})

    async def main() -> Any:
        app = create_app(config, lambda _cfg: synth, {})
        async with TestClient(TestServer(app, **(server_kwargs or {}))) as client:
            return await test(client, app)

    return asyncio.run(main())


def test_a_calls_timeout_follows_its_length_within_floor_and_cap() -> None:
    cost = CallCost(rtf=1.5, queue_allowance_s=10.0, floor_s=12.0, cap_s=40.0)
    assert cost.timeout_s(1) == 12.0  # floor
    assert cost.timeout_s(30) == pytest.approx(30 * 0.2 * 1.5 + 10.0)  # 19 s
    assert cost.timeout_s(500) == 40.0  # cap
    assert call_cost(1.5, 10.0, floor_s=90.0, cap_s=60.0).floor_s == 60.0  # floor <= cap
    with pytest.raises(ValueError, match="invalid call cost"):
        CallCost(rtf=0.0)


def test_the_request_deadline_shortens_every_call() -> None:
    cost = CallCost(floor_s=10.0, cap_s=60.0)
    assert call_timeout_s(cost, 30) == cost.timeout_s(30)
    with deadline_scope(Deadline.after(3.0)):
        assert 2.5 < call_timeout_s(cost, 30) <= 3.0
    with deadline_scope(Deadline(time.monotonic() - 1, 5.0)), pytest.raises(DeadlineExceeded):
        call_timeout_s(cost, 30)


@pytest.mark.parametrize("value", ["2", " 2.5 ", "3600"])
def test_valid_request_timeouts(value: str) -> None:
    assert parse_request_timeout(value, 3600.0) == float(value)


@pytest.mark.parametrize("value", ["", "abc", "0", "0.5", "-3", "nan", "inf", "3601", "1e9"])
def test_invalid_request_timeouts_say_what_to_send(value: str) -> None:
    with pytest.raises(InvalidParameter, match="X-Request-Timeout must be a number of seconds"):
        parse_request_timeout(value, 3600.0)


def test_a_bad_deadline_header_is_a_400_and_takes_no_slot() -> None:
    synth = SlowSynthesizer(0.0)

    async def test(client: TestClient, app: Any) -> None:
        resp = await client.post(
            "/v1/tts", json={"text": "你好"}, headers={"X-Request-Timeout": "soon"}
        )
        body = await resp.json()
        assert resp.status == 400 and body["error"]["code"] == "invalid_parameter"
        assert "X-Request-Timeout" in body["error"]["message"]
        assert app[ADMISSION_KEY].active == 0 and synth.started == 0

    run_app(synth, test)


@pytest.mark.parametrize("stream", [False, True])
def test_an_expired_request_gets_504_and_its_chunk_calls_are_cancelled(stream: bool) -> None:
    synth = SlowSynthesizer(30.0)

    async def test(client: TestClient, app: Any) -> None:
        started = time.monotonic()
        resp = await client.post(
            "/v1/tts", json={"text": TEXT, "stream": stream}, headers={"X-Request-Timeout": "1"}
        )
        body = await resp.json()
        assert time.monotonic() - started < 2.0
        assert resp.status == 504 and body["error"]["code"] == "deadline_exceeded"
        assert "deadline of 1 s" in body["error"]["message"]
        assert int(resp.headers["Retry-After"]) >= 1
        # Nothing keeps running for a request that is over.
        assert synth.started >= 1 and synth.cancelled == synth.started and synth.finished == 0
        assert app[ADMISSION_KEY].active == 0

    run_app(synth, test)


def test_a_stream_whose_deadline_passes_midway_is_cut() -> None:
    class FirstFast(SlowSynthesizer):
        async def synthesize(self, text: str, params: VoiceParams) -> np.ndarray:
            if self.started == 0:
                self.started += 1
                return tone(100 * len(text))
            return await super().synthesize(text, params)

    synth = FirstFast(30.0)

    async def test(client: TestClient, app: Any) -> None:
        resp = await client.post(
            "/v1/tts", json={"text": TEXT, "stream": True}, headers={"X-Request-Timeout": "1"}
        )
        assert resp.status == 200  # the first chunk's audio went out
        with pytest.raises(Exception, match="(?i)payload|closed|disconnect"):
            await resp.read()  # an unfinished chunked body: the honest signal left
        assert app[ADMISSION_KEY].active == 0 and synth.finished == 0

    run_app(synth, test)


def test_without_a_deadline_requests_are_served() -> None:
    async def test(client: TestClient, app: Any) -> None:
        resp = await client.post("/v1/tts", json={"text": TEXT})
        assert resp.status == 200
        resp = await client.post(
            "/v1/tts", json={"text": TEXT}, headers={"X-Request-Timeout": "30"}
        )
        assert resp.status == 200

    run_app(SlowSynthesizer(0.01), test)


def test_a_retry_that_cannot_fit_in_the_deadline_is_not_tried() -> None:
    async def main() -> int:
        synth = FlakySynthesizer(5)
        retrying = RetryingSynthesizer(synth, RetryPolicy(backoff_s=0.0), RetryBudget(4))
        with deadline_scope(Deadline.after(0.5)), pytest.raises(TritonUnavailable):
            await retrying.synthesize("你好", VoiceParams())
        return len(synth.calls)

    assert asyncio.run(main()) == 1  # answered 503 at once instead of a 504 later


def test_a_disconnected_client_frees_its_slot_and_cancels_its_calls() -> None:
    synth = SlowSynthesizer(30.0)

    async def test(client: TestClient, app: Any) -> None:
        with pytest.raises(asyncio.TimeoutError):
            await client.post(
                "/v1/tts", json={"text": TEXT, "stream": True}, timeout=ClientTimeout(total=0.3)
            )
        deadline = time.monotonic() + 1.0
        while app[ADMISSION_KEY].active and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert app[ADMISSION_KEY].active == 0
        assert synth.started >= 1 and synth.cancelled == synth.started
        metrics = app[METRICS_KEY].render().decode()
        assert 'status="499"' in metrics

    run_app(synth, test, server_kwargs={"handler_cancellation": True})


def infer_recorder(synth: TritonSynthesizer, seconds: float, log: list[str]) -> Any:
    async def fake_infer(voice: str, inputs: object, deadline_s: float, **_: object) -> np.ndarray:
        log.append(f"deadline {deadline_s:.1f}")
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
        log.append("finished")
        return np.zeros(10, np.float32)

    return fake_infer


def test_an_abandoned_call_is_cancelled_once_it_is_old_enough(monkeypatch) -> None:
    monkeypatch.setattr(triton_client, "CANCEL_MIN_AGE_S", 0.2)

    async def main() -> tuple[list[str], list[str]]:
        synth = TritonSynthesizer("127.0.0.1:1", cost=CallCost(floor_s=12.0, cap_s=60.0))
        quick: list[str] = []
        synth._infer = infer_recorder(synth, 0.05, quick)  # type: ignore[method-assign]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(synth.synthesize("你好", VoiceParams()), 0.01)
        await asyncio.sleep(0.3)
        # A call answered before CANCEL_MIN_AGE_S (as a cache hit is) is never cancelled:
        # cancelling those crashes tritonserver 2.51.
        slow: list[str] = []
        synth._infer = infer_recorder(synth, 30.0, slow)  # type: ignore[method-assign]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(synth.synthesize("你好", VoiceParams()), 0.01)
        await asyncio.sleep(0.1)
        assert slow == ["deadline 12.0"]  # not yet: too young
        await asyncio.sleep(0.3)
        assert not synth._in_flight
        await synth.close()
        return quick, slow

    quick, slow = asyncio.run(main())
    assert quick == ["deadline 12.0", "finished"]
    assert slow == ["deadline 12.0", "cancelled"]


def test_the_health_probe_fails_fast_when_triton_does_not_answer_liveness() -> None:
    class Hung(SlowSynthesizer):
        async def is_live(self, timeout_s: float) -> bool:
            await asyncio.sleep(min(timeout_s, 0.05))
            return False

    async def main() -> tuple[bool, str, float]:
        synth = Hung(30.0)
        result = await HealthProbe(synth, interval_s=0.0, timeout_s=30.0).check()
        assert synth.started == 0  # no synthesis was queued behind a hung server
        return result.ready, result.detail, result.probe_seconds

    ready, detail, seconds = asyncio.run(main())
    assert not ready and "liveness" in detail and seconds < 1.0


def test_healthz_answers_503_at_once_for_a_hung_server() -> None:
    class Hung(SlowSynthesizer):
        async def is_live(self, timeout_s: float) -> bool:
            return False

    async def test(client: TestClient, app: Any) -> None:
        assert isinstance(app[HEALTH_KEY], HealthProbe)
        resp = await client.get("/healthz")
        assert resp.status == 503 and "Retry-After" in resp.headers

    run_app(Hung(30.0), test)
