"""gRPC errors from Triton become the right API errors."""

from __future__ import annotations

import pytest
from tritonclient.utils import InferenceServerException

from frontend.errors import TextRejected, TritonTimeout, TritonUnavailable
from frontend.triton_client import map_triton_error


@pytest.mark.parametrize(
    ("status", "message", "expected", "http"),
    [
        ("StatusCode.INVALID_ARGUMENT", "TEXT has 563 characters", TextRejected, 400),
        ("StatusCode.DEADLINE_EXCEEDED", "Deadline Exceeded", TritonTimeout, 503),
        (
            "StatusCode.UNAVAILABLE",
            "in ensemble 'tts', Request timeout expired",
            TritonTimeout,
            503,
        ),
        ("StatusCode.UNAVAILABLE", "failed to connect to all addresses", TritonUnavailable, 503),
        ("StatusCode.INTERNAL", "Stub process is not healthy", TritonUnavailable, 503),
    ],
)
def test_error_mapping(status: str, message: str, expected: type, http: int) -> None:
    error = map_triton_error(InferenceServerException(msg=message, status=status))
    assert type(error) is expected and error.status == http
    if http == 503:
        assert error.retry_after_s and error.retry_after_s > 0
    if expected is TextRejected:
        assert message in error.message


def test_giving_up_never_cancels_the_call_in_flight() -> None:
    """Cancelling in-flight gRPC calls (answered from the response cache) crashed
    tritonserver 2.51, so a caller that gives up must leave the call running."""
    import asyncio

    import numpy as np

    from frontend.synthesis import VoiceParams
    from frontend.triton_client import TritonSynthesizer

    async def main() -> None:
        synth = TritonSynthesizer("127.0.0.1:1")  # never contacted: _infer is replaced
        finished = asyncio.Event()
        cancelled = []

        async def slow_infer(inputs: object, deadline_s: float) -> np.ndarray:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
            finished.set()
            return np.zeros(10, np.float32)

        synth._infer = slow_infer  # type: ignore[method-assign]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(synth.synthesize("你好", VoiceParams()), 0.01)
        await asyncio.wait_for(finished.wait(), 1)
        assert not cancelled and not synth._in_flight
        await synth.close()

    asyncio.run(main())
