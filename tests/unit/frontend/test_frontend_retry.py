"""Failed chunks are retried within a bounded budget, only for transient errors; a request
ends with all of its audio or one clear error."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import aiohttp
import numpy as np
import pytest
import soundfile as sf
from aiohttp.test_utils import TestClient, TestServer
from frontend_helpers import FakeSynthesizer, FlakySynthesizer

from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.errors import TextRejected, TritonTimeout, TritonUnavailable
from frontend.retry import RetryBudget, RetryingSynthesizer, RetryPolicy, is_retryable
from frontend.synthesis import VoiceParams

TEXT = "春天来了，花开了，鸟儿在歌唱。" * 4  # several chunks at chunk_max_chars=20
NO_WAIT = RetryPolicy(max_retries_per_chunk=2, retry_budget_per_request=4, backoff_s=0.0)


def synthesize_once(synth: Any, policy: RetryPolicy = NO_WAIT) -> np.ndarray:
    retrying = RetryingSynthesizer(synth, policy, RetryBudget(policy.retry_budget_per_request))
    return asyncio.run(retrying.synthesize("你好", VoiceParams()))


def test_classification() -> None:
    assert is_retryable(TritonUnavailable("Stub process is not healthy"))
    assert is_retryable(TritonTimeout("queue timeout"))
    assert is_retryable(ConnectionResetError())
    assert not is_retryable(TextRejected("INVALID_ARGUMENT"))
    assert not is_retryable(ValueError("a bug"))


@pytest.mark.parametrize(
    ("status", "message", "retry"),
    [
        ("StatusCode.UNAVAILABLE", "failed to connect to all addresses", True),
        ("StatusCode.INTERNAL", "Stub process is not healthy", True),
        ("StatusCode.UNAVAILABLE", "Exceeds maximum queue size", True),
        ("StatusCode.UNAVAILABLE", "in ensemble 'tts', Request timeout expired", True),
        ("StatusCode.DEADLINE_EXCEEDED", "Deadline Exceeded", True),
        ("StatusCode.INVALID_ARGUMENT", "TEXT has 563 characters", False),
    ],
)
def test_triton_errors_are_classified(status: str, message: str, retry: bool) -> None:
    from tritonclient.utils import InferenceServerException

    from frontend.triton_client import map_triton_error

    error = map_triton_error(InferenceServerException(msg=message, status=status))
    assert is_retryable(error) is retry


@pytest.mark.parametrize("failures", [1, 2])
def test_transient_failures_are_retried_until_success(failures: int) -> None:
    synth = FlakySynthesizer(failures)
    audio = synthesize_once(synth)
    assert audio.size == synth.length_of("你好")
    assert len(synth.calls) == failures + 1


def test_per_chunk_retries_are_bounded() -> None:
    synth = FlakySynthesizer(3)
    with pytest.raises(TritonUnavailable):
        synthesize_once(synth)
    assert len(synth.calls) == 3  # first try + 2 retries


def test_rejected_text_is_never_retried() -> None:
    synth = FlakySynthesizer(1, error=lambda: TextRejected("INVALID_ARGUMENT: bad text"))
    with pytest.raises(TextRejected):
        synthesize_once(synth)
    assert len(synth.calls) == 1


def test_connection_errors_become_one_clear_api_error() -> None:
    synth = FlakySynthesizer(5, error=lambda: ConnectionRefusedError("connection refused"))
    with pytest.raises(TritonUnavailable, match="unreachable"):
        synthesize_once(synth)
    assert len(synth.calls) == 3


def test_the_request_budget_is_shared_by_its_chunks() -> None:
    async def main() -> int:
        synth = FlakySynthesizer(100)
        retrying = RetryingSynthesizer(synth, NO_WAIT, RetryBudget(3))
        for text in ("一", "二"):
            with pytest.raises(TritonUnavailable):
                await retrying.synthesize(text, VoiceParams())
        return len(synth.calls)

    # Chunk one: 1 + 2 retries; chunk two: 1 + the one retry left in the budget.
    assert asyncio.run(main()) == 5


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(backoff_s=0.2, max_backoff_s=0.5)
    for _ in range(20):
        assert 0.1 <= policy.delay_s(0) <= 0.2
        assert 0.2 <= policy.delay_s(1) <= 0.4
        assert 0.25 <= policy.delay_s(5) <= 0.5


def run_app(synth: FakeSynthesizer, test: Any, **config: Any) -> Any:
    cfg = FrontendConfig(
        **{"chunk_max_chars": 20, "max_text_chars": 1000, "retry_backoff_s": 0.0, **config}
    )

    async def main() -> Any:
        app = create_app(cfg, lambda _cfg: synth, {})
        async with TestClient(TestServer(app)) as client:
            return await test(client)

    return asyncio.run(main())


async def wav_samples(resp: aiohttp.ClientResponse) -> np.ndarray:
    data, _ = sf.read(io.BytesIO(await resp.read()), dtype="int16")
    return data


def test_a_request_with_flaky_chunks_gets_the_complete_audio() -> None:
    async def reference(client: TestClient) -> np.ndarray:
        return await wav_samples(await client.post("/v1/tts", json={"text": TEXT}))

    expected = run_app(FakeSynthesizer(delay_s=0.001), reference)

    async def test(client: TestClient) -> tuple[np.ndarray, str]:
        resp = await client.post("/v1/tts", json={"text": TEXT})
        assert resp.status == 200
        metrics = await (await client.get("/metrics")).text()
        return await wav_samples(resp), metrics

    flaky = FlakySynthesizer(2)  # the first chunk (sent alone) fails twice, then works
    audio, metrics = run_app(flaky, test)
    assert flaky.failed == 2
    assert np.array_equal(audio, expected)
    assert 'tts_frontend_chunk_retries_total{code="backend_unavailable"} 2.0' in metrics


def test_an_exhausted_budget_is_one_clear_503() -> None:
    async def test(client: TestClient) -> None:
        resp = await client.post("/v1/tts", json={"text": TEXT})
        assert resp.status == 503
        error = (await resp.json())["error"]
        assert error["code"] == "backend_unavailable"
        assert int(resp.headers["Retry-After"]) >= 1

    flaky = FlakySynthesizer(100)
    run_app(flaky, test, request_retry_budget=2)
    assert flaky.failed <= 1 + 2 + 8  # tries in the window + the budget's retries


def test_a_stream_that_fails_after_retries_is_visibly_truncated() -> None:
    """Headers are sent already: the body must end unfinished, not as short valid audio."""

    async def test(client: TestClient) -> None:
        resp = await client.post("/v1/tts", json={"text": TEXT, "stream": True})
        assert resp.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()

    # The first chunk works, every later one (all contain "鸟") keeps failing.
    flaky = FlakySynthesizer(100, target="鸟")
    run_app(flaky, test, first_chunk_max_chars=4)
