"""Who may call /v1/* and how often: optional API keys, token-bucket rate limits, CORS.

All three are off by default (no keys, no limit, no CORS headers); docs/security.md says
when to turn them on.
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from frontend.errors import ApiError

API_KEYS_ENV = "TTS_API_KEYS"
PROTECTED_PREFIX = "/v1/"
# Headers the web page and other browser clients send and read across origins.
CORS_ALLOW_HEADERS = "Authorization, X-API-Key, Content-Type, X-Request-Id, X-Request-Timeout"
CORS_EXPOSE_HEADERS = (
    "X-Request-Id, X-Chunks, X-Sample-Rate, X-Voice, X-Estimated-Audio-Seconds, "
    "X-Audio-Duration, X-Speed-Clamped, X-Speed-Requested, Retry-After"
)
CORS_MAX_AGE_S = 600


class Unauthorized(ApiError, status=401, code="unauthorized"): ...


class RateLimited(ApiError, status=429, code="rate_limited"): ...


def _split_keys(text: str) -> set[str]:
    return {k.strip() for k in text.replace("\n", ",").split(",") if k.strip()}


def load_api_keys(path: str, environ: Mapping[str, str]) -> frozenset[str]:
    """Keys from `path` (one per line or comma-separated, '#' starts a comment) plus the
    comma-separated TTS_API_KEYS variable.  Empty: no key is required."""
    keys = _split_keys(environ.get(API_KEYS_ENV, ""))
    if path:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        keys |= _split_keys("\n".join(line.split("#", 1)[0] for line in lines))
    return frozenset(keys)


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key from `Authorization: Bearer KEY`, else from `X-API-Key`."""
    scheme, _, value = headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return headers.get("X-API-Key", "").strip() or None


def key_is_valid(key: str | None, keys: frozenset[str]) -> bool:
    # Compare against every key in constant time each: no early exit that times the match.
    if key is None:
        return False
    found = False
    for candidate in keys:
        found |= hmac.compare_digest(key.encode(), candidate.encode())
    return found


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """One token bucket per client: `rate` tokens per second, at most `burst` saved up."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    max_clients: int = 10_000  # memory bound: idle, full buckets are dropped beyond this
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")

    def take(self, client: str) -> float | None:
        """None if `client` may go ahead, else the seconds until it may."""
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._drop_full(now)
            bucket = self._buckets[client] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / self.rate

    def _drop_full(self, now: float) -> None:
        full = [
            name
            for name, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.burst
        ]
        for name in full:
            del self._buckets[name]
        if len(self._buckets) >= self.max_clients:  # all busy: forget the stalest one
            del self._buckets[min(self._buckets, key=lambda n: self._buckets[n].updated)]


@dataclass(frozen=True)
class AccessPolicy:
    api_keys: frozenset[str] = frozenset()
    limiter: RateLimiter | None = None
    cors_origins: frozenset[str] = frozenset()  # "*" allows any origin

    def check(self, path: str, headers: Mapping[str, str], peer: str | None) -> None:
        """Raise Unauthorized / RateLimited for a /v1/* request that may not proceed."""
        if not path.startswith(PROTECTED_PREFIX):
            return
        key = presented_key(headers)
        if self.api_keys and not key_is_valid(key, self.api_keys):
            raise Unauthorized(
                "missing or unknown API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
            )
        if self.limiter is None:
            return
        client = f"key:{key}" if self.api_keys else f"ip:{peer or 'unknown'}"
        wait_s = self.limiter.take(client)
        if wait_s is not None:
            raise RateLimited(
                f"rate limit of {self.limiter.rate:g} requests/s (burst {self.limiter.burst}) "
                "exceeded; retry later",
                retry_after_s=max(1.0, math.ceil(wait_s)),
            )

    def allowed_origin(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin value for `origin`, or None (no CORS headers)."""
        if not origin or not self.cors_origins:
            return None
        if "*" in self.cors_origins:
            return "*"
        return origin if origin in self.cors_origins else None


def policy_from(
    api_keys_file: str,
    rate_limit_rps: float,
    rate_limit_burst: int,
    cors_origins: str,
    environ: Mapping[str, str],
) -> AccessPolicy:
    limiter = None
    if rate_limit_rps > 0:
        burst = rate_limit_burst if rate_limit_burst > 0 else max(1, math.ceil(rate_limit_rps))
        limiter = RateLimiter(rate_limit_rps, burst)
    origins = frozenset(o.strip().rstrip("/") for o in cors_origins.split(",") if o.strip())
    return AccessPolicy(load_api_keys(api_keys_file, environ), limiter, origins)
