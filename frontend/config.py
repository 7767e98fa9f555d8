"""Service configuration: one dataclass, filled from the command line."""

from __future__ import annotations

from dataclasses import dataclass

from frontend.chunking import DEFAULT_FIRST_MAX_CHARS, DEFAULT_MAX_CHARS
from mandarin_tts import contract


@dataclass(frozen=True)
class FrontendConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    triton_grpc: str = "127.0.0.1:8001"
    # Triton ensemble of the bundled voice; every other voice is served by
    # mandarin_tts.voices.registry.ensemble_name(voice) ("tts_<voice>").
    model_name: str = contract.MODEL_ENSEMBLE
    # Voices: the manifests (voice.json) of the bundled voice (models dir) and of the
    # imported ones (one folder each under the voices dir).  "" = the registry's defaults
    # (MANDARIN_TTS_MODELS_DIR / MANDARIN_TTS_VOICES_DIR, else .cache/models and
    # .cache/voices).  Without any manifest the bundled voice is served as built in.
    models_dir: str = ""
    voices_dir: str = ""
    # Voice of requests that name none ("" = the bundled voice if installed, else the first).
    default_voice: str = ""
    # Limits (documented in docs/frontend.md).
    max_text_chars: int = 20_000
    max_body_bytes: int = 256 * 1024
    # Chunking: soft maximum per chunk; a shorter first chunk reaches the listener sooner.
    chunk_max_chars: int = DEFAULT_MAX_CHARS
    first_chunk_max_chars: int = DEFAULT_FIRST_MAX_CHARS
    # Send the first chunk alone (not batched with, and padded to, longer ones behind it):
    # measured first audio 4.2 s instead of 52.8 s for the long eval text.
    first_chunk_alone: bool = True
    # Concurrency: Triton calls in flight per request and across all requests.  More than
    # Triton can batch at once (max_batch_size 8 on the cpu-2 tier) only queues inside it.
    per_request_concurrency: int = 4
    global_concurrency: int = 8
    # Admission: requests being served at once; more are refused with 429.  And the work
    # admitted, in seconds at the measured throughput: a request arriving behind more than
    # this is refused at once (frontend/admission.py; 0: slots only).  6 s keeps the answers
    # of a 3x overload within a 10 s SLO on the cpu-2 tier (docs/bench.md, "Overload").
    max_active_requests: int = 16
    max_backlog_s: float = 6.0
    # Per Triton call deadline, queueing included (an ensemble has no queue timeout of its
    # own on 2.51): the chunk's audio (~0.2 s per character) x triton_rtf (the tier's
    # real-time factor under load, queueing behind the other calls included) plus
    # triton_queue_allowance_s, within [triton_timeout_floor_s, triton_timeout_s]
    # (frontend/deadline.py).  A hung Triton is then given up on within seconds, not minutes.
    triton_timeout_s: float = 60.0
    triton_rtf: float = 1.5
    triton_queue_allowance_s: float = 10.0
    triton_timeout_floor_s: float = 10.0
    # Whole-request deadline when the client sends no X-Request-Timeout (0: none, the
    # per-call deadlines bound every wait), and the most a client may ask for.
    request_timeout_s: float = 0.0
    max_request_timeout_s: float = 3600.0
    # /healthz runs a real inference at most this often.
    health_probe_interval_s: float = 5.0
    health_probe_timeout_s: float = 30.0
    # Access (docs/security.md).  API keys: a file with one per line and/or TTS_API_KEYS
    # (comma-separated) in the environment; none set = no key needed.  The keys are not
    # kept here so that they never reach the startup log line.
    api_keys_file: str = ""
    # Token bucket per API key (per client IP when keys are off); 0 = no limit.  Burst 0 =
    # the rate rounded up.
    rate_limit_rps: float = 0.0
    rate_limit_burst: int = 0
    # Comma-separated origins allowed to call /v1/* from browsers ("*" = any); empty = no
    # CORS headers at all.
    cors_origins: str = ""
    # WebSocket sessions (GET /v1/tts/ws, docs/websocket.md): closed after this long without
    # a message while nothing is being spoken; reading pauses (TCP pushes back on the client)
    # while this many characters are received but not yet spoken.
    ws_idle_timeout_s: float = 30.0
    ws_max_pending_chars: int = 2000
    # Retry of failed chunks (transient backend errors only; frontend/retry.py): per chunk,
    # per request in total, and the first backoff (doubled each attempt).
    chunk_retries: int = 2
    request_retry_budget: int = 4
    retry_backoff_s: float = 0.25
    # On SIGTERM/SIGINT: answer 503 to new requests and give those in flight this long to
    # finish before exiting (keep it below the orchestrator's kill timeout).
    shutdown_grace_s: float = 25.0
