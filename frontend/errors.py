"""Errors the service reports to clients as JSON, each with a status code and a stable code."""

from __future__ import annotations

# Retry-After (seconds) for transient backend trouble and draining: one value for every
# 503 the service sends, so clients see one consistent back-off.
RETRY_AFTER_S = 5.0


class ApiError(Exception):
    """An error answered as {"error": {"code", "message", "request_id"}} with `status`.

    A subclass states its answer in its class line, `class X(ApiError, status=..., code=...)`,
    so the whole catalogue reads as one table (openapi.py lists it per status)."""

    status = 400
    code = "bad_request"
    # Transient backend trouble: the same chunk may succeed when sent again.
    retryable = False

    def __init_subclass__(cls, *, status: int, code: str, retryable: bool = False) -> None:
        super().__init_subclass__()
        cls.status, cls.code, cls.retryable = status, code, retryable

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s
        # The request field at fault, where one is (the OpenAI error shape reports it).
        self.param = param


class InvalidParameter(ApiError, status=400, code="invalid_parameter"): ...


class InvalidJson(ApiError, status=400, code="invalid_json"): ...


class UnsupportedMediaType(ApiError, status=415, code="unsupported_media_type"): ...


class TextTooLong(ApiError, status=413, code="text_too_long"): ...


class BodyTooLarge(ApiError, status=413, code="body_too_large"): ...


class BodyTimeout(ApiError, status=408, code="body_timeout"): ...


class IncompleteBody(ApiError, status=400, code="incomplete_body"):
    """The client closed the connection mid-upload (nobody reads the answer; it is counted)."""


class InvalidSsml(ApiError, status=400, code="invalid_ssml"):
    """The SSML document is malformed, unsafe or uses an unsupported element (frontend/ssml)."""


class TextRejected(ApiError, status=400, code="text_rejected"):
    """Triton's text model refused a chunk (gRPC INVALID_ARGUMENT)."""


class Overloaded(ApiError, status=429, code="overloaded"): ...


class TritonUnavailable(ApiError, status=503, code="backend_unavailable", retryable=True): ...


class TritonTimeout(ApiError, status=503, code="backend_timeout", retryable=True): ...
