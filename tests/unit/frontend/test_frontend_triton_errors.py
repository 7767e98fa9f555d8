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
