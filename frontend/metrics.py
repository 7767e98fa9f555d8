"""Prometheus metrics of the frontend, in a registry of its own (one per app)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300)


@dataclass
class FrontendMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "tts_frontend_requests",
            "Synthesis requests by route and status",
            ["route", "status"],
            registry=r,
        )
        self.errors = Counter(
            "tts_frontend_errors", "Failed requests by error code", ["code"], registry=r
        )
        self.latency = Histogram(
            "tts_frontend_request_seconds",
            "Time to the last audio byte",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.first_audio = Histogram(
            "tts_frontend_first_audio_seconds",
            "Time from request to first chunk's audio ready",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.audio_seconds = Counter(
            "tts_frontend_audio_seconds", "Seconds of audio produced", registry=r
        )
        self.chunks = Counter("tts_frontend_chunks", "Chunks sent to Triton", registry=r)
        self.retries = Counter(
            "tts_frontend_chunk_retries", "Chunks sent again after an error", ["code"], registry=r
        )
        self.active = Gauge("tts_frontend_active_requests", "Requests being served", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
