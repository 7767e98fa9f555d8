"""API keys, rate limits and CORS through aiohttp's test client (fake synthesizer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from frontend_helpers import FakeSynthesizer

from frontend.__main__ import parse_args
from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.security import (
    API_KEYS_ENV,
    RateLimiter,
    load_api_keys,
    policy_from,
    presented_key,
)

TEXT = "你好，世界。"


def run(
    test: Callable[[TestClient], Awaitable[Any]],
    environ: dict[str, str] | None = None,
    **config: Any,
) -> Any:
    cfg = FrontendConfig(**{"chunk_max_chars": 20, "max_text_chars": 1000, **config})

    async def main() -> Any:
        app = create_app(cfg, lambda _cfg: FakeSynthesizer(), environ or {})
        async with TestClient(TestServer(app)) as client:
            return await test(client)

    return asyncio.run(main())


def test_keys_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text("# team A\nalpha\n\nbeta, gamma  # rotated 2026-11\n")
    keys = load_api_keys(str(keys_file), {API_KEYS_ENV: " delta ,epsilon,"})
    assert keys == {"alpha", "beta", "gamma", "delta", "epsilon"}
    assert load_api_keys("", {}) == frozenset()


def test_presented_key_reads_bearer_then_x_api_key() -> None:
    assert presented_key({"Authorization": "Bearer k1"}) == "k1"
    assert presented_key({"Authorization": "bearer  k1 "}) == "k1"
    assert presented_key({"X-API-Key": "k2"}) == "k2"
    assert presented_key({"Authorization": "Basic abc"}) is None
    assert presented_key({}) is None


def test_without_keys_v1_is_open() -> None:
    async def test(client: TestClient) -> None:
        assert (await client.post("/v1/tts", json={"text": TEXT})).status == 200

    run(test)


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer secret-1"}, {"X-API-Key": "secret-2"}],
)
def test_a_valid_key_is_accepted(headers: dict[str, str]) -> None:
    async def test(client: TestClient) -> None:
        resp = await client.post("/v1/tts", json={"text": TEXT}, headers=headers)
        assert resp.status == 200 and resp.content_type == "audio/wav"

    run(test, {API_KEYS_ENV: "secret-1,secret-2"})


def test_missing_or_wrong_key_gets_a_json_401_and_health_and_metrics_stay_open(
    tmp_path: Path,
) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text("secret-1\n")

    async def test(client: TestClient) -> None:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"X-API-Key": "secret-1x"}):
            resp = await client.post("/v1/tts", json={"text": TEXT}, headers=headers)
            assert resp.status == 401
            error = (await resp.json())["error"]
            assert error["code"] == "unauthorized" and error["request_id"]
        assert (await client.get("/v1/limits")).status == 401
        assert (await client.post("/v1/audio/speech", json={"input": TEXT})).status == 401
        assert (await client.get("/metrics")).status == 200
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/")).status == 200  # the page itself; it sends the key
        ok = await client.get("/v1/limits", headers={"Authorization": "Bearer secret-1"})
        assert ok.status == 200

    run(test, api_keys_file=str(keys_file))


def test_token_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    wait = limiter.take("a")
    assert wait == pytest.approx(0.5)
    assert limiter.take("b") is None  # buckets are per client
    now[0] += 0.5
    assert limiter.take("a") is None and limiter.take("a") is not None


def test_limiter_memory_is_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=1.0, burst=1, clock=lambda: now[0], max_clients=3)
    for i in range(10):
        now[0] += 0.01
        limiter.take(f"client-{i}")
    assert len(limiter._buckets) <= 3


def test_rate_limit_answers_429_with_retry_after_per_key() -> None:
    async def test(client: TestClient) -> None:
        a, b = {"X-API-Key": "key-a"}, {"X-API-Key": "key-b"}
        statuses = [
            (await client.post("/v1/tts", json={"text": TEXT}, headers=a)).status for _ in range(2)
        ]
        assert statuses == [200, 200]
        limited = await client.post("/v1/tts", json={"text": TEXT}, headers=a)
        assert limited.status == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert (await limited.json())["error"]["code"] == "rate_limited"
        # Another key has its own bucket; health is never limited.
        assert (await client.post("/v1/tts", json={"text": TEXT}, headers=b)).status == 200
        assert (await client.get("/healthz")).status == 200

    run(test, {API_KEYS_ENV: "key-a,key-b"}, rate_limit_rps=0.01, rate_limit_burst=2)


def test_rate_limit_is_per_client_ip_without_keys() -> None:
    async def test(client: TestClient) -> None:
        assert (await client.get("/v1/limits")).status == 200
        assert (await client.get("/v1/limits")).status == 429

    run(test, rate_limit_rps=0.01, rate_limit_burst=1)


def test_no_cors_headers_by_default() -> None:
    async def test(client: TestClient) -> None:
        origin = {"Origin": "https://evil.example"}
        resp = await client.post("/v1/tts", json={"text": TEXT}, headers=origin)
        assert resp.status == 200 and "Access-Control-Allow-Origin" not in resp.headers
        preflight = await client.options(
            "/v1/tts", headers={**origin, "Access-Control-Request-Method": "POST"}
        )
        assert "Access-Control-Allow-Origin" not in preflight.headers
        assert preflight.status >= 400

    run(test)


def test_configured_origins_get_cors_headers_also_when_streaming() -> None:
    async def test(client: TestClient) -> None:
        good = {"Origin": "https://app.example"}
        preflight = await client.options(
            "/v1/tts",
            headers={
                **good,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
        assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
        body = {"text": TEXT, "stream": True}
        resp = await client.post("/v1/tts", json=body, headers=good)
        assert resp.status == 200
        assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example"
        assert "X-Sample-Rate" in resp.headers["Access-Control-Expose-Headers"]
        await resp.read()
        other = await client.post(
            "/v1/tts", json={"text": TEXT}, headers={"Origin": "https://other.example"}
        )
        assert "Access-Control-Allow-Origin" not in other.headers

    run(test, cors_origins="https://app.example, https://admin.example/")


def test_cli_flags_are_generated_for_the_security_options() -> None:
    config = parse_args(
        [
            "--api-keys-file", "/run/secrets/keys", "--rate-limit-rps", "2.5",
            "--rate-limit-burst", "5", "--cors-origins", "https://a.example",
        ]
    )  # fmt: skip
    assert config.api_keys_file == "/run/secrets/keys"
    assert (config.rate_limit_rps, config.rate_limit_burst) == (2.5, 5)
    policy = policy_from("", config.rate_limit_rps, 0, config.cors_origins, {})
    assert policy.limiter is not None and policy.limiter.burst == 3  # rate rounded up
    assert policy.allowed_origin("https://a.example") == "https://a.example"
