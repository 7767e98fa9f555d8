"""The aiohttp application: routes, request ids, JSON errors, admission control, metrics."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import os
import re
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp import web

from frontend.admission import Admission, request_chars
from frontend.chunking import warm_up
from frontend.config import FrontendConfig
from frontend.deadline import (
    CURRENT_DEADLINE,
    call_cost,
    deadline_scope,
    request_deadline,
    within_deadline,
)
from frontend.encoding import SAMPLE_RATES, delivered_rate, encode, open_encoder
from frontend.errors import (
    RETRY_AFTER_S,
    ApiError,
    BodyTimeout,
    BodyTooLarge,
    IncompleteBody,
    Overloaded,
    UnsupportedMediaType,
)
from frontend.health import HealthProbe
from frontend.metrics import FrontendMetrics
from frontend.openai_compat import OPENAI_SPEECH_PATH, SSE_CONTENT_TYPE, openai_error_body
from frontend.openapi import build_openapi
from frontend.security import (
    CORS_ALLOW_HEADERS,
    CORS_EXPOSE_HEADERS,
    CORS_MAX_AGE_S,
    AccessPolicy,
    policy_from,
)
from frontend.service import TTSService
from frontend.shutdown import DRAIN_KEY, Drain, drain_gate
from frontend.ssml import limits as ssml_limits
from frontend.streaming import first_and_rest, stream_audio, stream_sse
from frontend.synthesis import ChunkSynthesizer
from frontend.timestamps import Timeline, timeline_for, timestamps_body
from frontend.validation import (
    BODY_READ_TIMEOUT_S,
    MAX_LEXICON_ENTRIES,
    NATIVE_FORMATS,
    OPENAI_FORMATS,
    OPENAI_STREAM_FORMATS,
    SUBTITLE_FORMATS,
    VOLUME_RANGE,
    SynthesisRequest,
    parse_json_object,
    parse_openai_request,
    parse_tts_request,
)
from frontend.voices import VoiceCatalogue, VoiceChoice
from frontend.websocket import add_websocket_route, credential_headers
from mandarin_tts import contract
from mandarin_tts.serving.step_io import has_alignment
from mandarin_tts.text.lexicon import MAX_WORD_CHARS as LEXICON_MAX_WORD_CHARS
from mandarin_tts.text.lexicon import lexicon_path_from_env

log = logging.getLogger("frontend")
STATIC_DIR = Path(__file__).with_name("static")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Speaking rate of the model (the long eval text: 113 s for 563 characters), used only for
# progress bars.
ESTIMATED_SECONDS_PER_CHAR = 0.2

CONFIG_KEY = web.AppKey("config", FrontendConfig)
METRICS_KEY = web.AppKey("metrics", FrontendMetrics)
SERVICE_KEY = web.AppKey("service", TTSService)
HEALTH_KEY = web.AppKey("health", HealthProbe)
ADMISSION_KEY = web.AppKey("admission", Admission)
POLICY_KEY = web.AppKey("policy", AccessPolicy)
CATALOGUE_KEY = web.AppKey("catalogue", VoiceCatalogue)
REQUEST_ID_KEY = web.RequestKey("request_id", str)

SynthesizerFactory = Callable[[FrontendConfig], ChunkSynthesizer]
Parser = Callable[[dict[str, Any], int], SynthesisRequest]


def _triton_factory(config: FrontendConfig, catalogue: VoiceCatalogue) -> ChunkSynthesizer:
    from frontend.triton_client import TritonSynthesizer

    return TritonSynthesizer(
        config.triton_grpc,
        config.model_name,
        config.triton_timeout_s,
        voices=catalogue.voices,
        cost=call_cost(
            config.triton_rtf,
            config.triton_queue_allowance_s,
            config.triton_timeout_floor_s,
            config.triton_timeout_s,
        ),
        lexicon_path=lexicon_path_from_env(),
    )


def _voice_of(
    catalogue: VoiceCatalogue, tts: SynthesisRequest
) -> tuple[VoiceChoice, SynthesisRequest]:
    """The request's voice, speaker and emotion checked (400 naming the valid ones), and the
    request with them in its parameters."""
    if tts.openai_voice:
        manifest = catalogue.openai_voice(tts.voice)
    else:
        manifest = catalogue.manifest(tts.voice)
    choice, params = catalogue.choose(manifest, tts.speaker, tts.emotion, tts.params)
    return choice, dataclasses.replace(tts, params=params)


def error_response(error: ApiError, request_id: str, *, openai: bool = False) -> web.Response:
    """The JSON error; `openai`: in OpenAI's shape (the /v1/audio/speech route)."""
    headers = {"X-Request-Id": request_id}
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(max(1, round(error.retry_after_s)))
    body: dict[str, Any] = (
        openai_error_body(error, request_id)
        if openai
        else {"error": {"code": error.code, "message": error.message, "request_id": request_id}}
    )
    return web.json_response(body, status=error.status, headers=headers)


def _routing_error_message(request: web.Request, error: web.HTTPException) -> str:
    """aiohttp's own 404/405, with what to send instead."""
    path = request.path[:100]
    if isinstance(error, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(error.allowed_methods))
        return f"{request.method} is not allowed on {path}; use {allowed}"
    if isinstance(error, web.HTTPNotFound):
        return f"nothing at {path}; GET /openapi.json describes the API"
    return error.reason


@web.middleware
async def request_context(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Request id (client's X-Request-Id if sane, else a new one), JSON errors, one log line."""
    offered = request.headers.get("X-Request-Id", "")
    request_id = offered if REQUEST_ID_RE.match(offered) else uuid.uuid4().hex
    request[REQUEST_ID_KEY] = request_id
    openai = request.path == OPENAI_SPEECH_PATH  # errors there in OpenAI's shape
    start = time.monotonic()
    try:
        response = await handler(request)
    except ApiError as error:
        request.app[METRICS_KEY].errors.labels(error.code).inc()
        response = error_response(error, request_id, openai=openai)
    except web.HTTPException as error:
        if error.status >= 400:
            api = ApiError(_routing_error_message(request, error))
            api.status, api.code = error.status, error.reason.lower().replace(" ", "_")
            response = error_response(api, request_id, openai=openai)
            if "Allow" in error.headers:  # a 405 must say which methods are allowed
                response.headers["Allow"] = error.headers["Allow"]
        else:
            raise
    except Exception:
        log.exception("request_id=%s unhandled error", request_id)
        request.app[METRICS_KEY].errors.labels("internal").inc()
        api = ApiError("internal error; see the server log for this request id")
        api.status, api.code = 500, "internal"
        response = error_response(api, request_id, openai=openai)
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
    log.info(
        "request_id=%s %s %s -> %s in %.3f s",
        request_id,
        request.method,
        request.path,
        response.status,
        time.monotonic() - start,
    )
    return response


@web.middleware
async def access_control(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """CORS preflights, then API keys and rate limits for /v1/* (errors become JSON outside)."""
    policy = request.app[POLICY_KEY]
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
        origin = policy.allowed_origin(request.headers.get("Origin"))
        if origin is None:
            raise web.HTTPForbidden(reason="Origin not allowed")
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
                "Access-Control-Max-Age": str(CORS_MAX_AGE_S),
            },
        )
    policy.check(request.path, credential_headers(request), request.remote)
    return await handler(request)


async def _add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Also for streamed responses: runs just before the headers are sent."""
    origin = request.app[POLICY_KEY].allowed_origin(request.headers.get("Origin"))
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        if origin != "*":
            response.headers["Vary"] = "Origin"


async def _read_json(request: web.Request, config: FrontendConfig) -> dict[str, Any]:
    content_type = request.headers.get("Content-Type", "application/json")
    if "json" not in content_type.lower():
        raise UnsupportedMediaType(
            f"send JSON (Content-Type: application/json), not {content_type}"
        )
    if request.content_length is not None and request.content_length > config.max_body_bytes:
        raise BodyTooLarge(
            f"body has {request.content_length} bytes; the maximum is {config.max_body_bytes}"
        )
    try:
        body = await asyncio.wait_for(request.read(), BODY_READ_TIMEOUT_S)
    except web.HTTPRequestEntityTooLarge as error:
        raise BodyTooLarge(f"body exceeds the maximum of {config.max_body_bytes} bytes") from error
    except TimeoutError as error:
        raise BodyTimeout(
            f"the request body did not arrive within {BODY_READ_TIMEOUT_S:g} s; send it at once"
        ) from error
    except ConnectionError as error:  # the client left mid-upload: not an internal error
        raise IncompleteBody("the connection closed before the whole body arrived") from error
    return parse_json_object(body)


def _synthesis_handler(
    route: str, parser: Parser
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        app = request.app
        config, metrics, admission = app[CONFIG_KEY], app[METRICS_KEY], app[ADMISSION_KEY]
        # The body first, outside the admission limit: a client that stalls its upload
        # must not hold one of the max_active_requests slots.
        try:
            data = await _read_json(request, config)
            # 400 for a malformed X-Request-Timeout, before taking a slot.
            deadline = request_deadline(
                request.headers, config.request_timeout_s, config.max_request_timeout_s
            )
        except ApiError as error:
            metrics.requests.labels(route, str(error.status)).inc()
            raise
        chars = request_chars(data)
        remaining_s = deadline.remaining_s() if deadline is not None else None
        refusal = admission.admit(chars, remaining_s)
        if refusal is not None:
            metrics.requests.labels(route, "429").inc()
            raise Overloaded(
                f"{refusal}; retry shortly",
                retry_after_s=admission.retry_after_s(),
            )
        metrics.active.inc()
        start = time.monotonic()
        status = "500"
        try:
            with deadline_scope(deadline):  # the chunk calls' deadline (frontend/deadline.py)
                response = await _synthesize(request, route, parser, data, start)
            status = str(response.status)
            return response
        except ApiError as error:
            status = str(error.status)
            raise
        except asyncio.CancelledError:
            status = "499"  # the client went away (handler cancellation); its slot is freed
            raise
        finally:
            admission.leave(time.monotonic() - start if status == "200" else None, chars)
            metrics.active.dec()
            metrics.requests.labels(route, status).inc()

    return handle


async def _synthesize(
    request: web.Request, route: str, parser: Parser, data: dict[str, Any], start: float
) -> web.StreamResponse:
    app = request.app
    config, metrics, service = app[CONFIG_KEY], app[METRICS_KEY], app[SERVICE_KEY]
    request_id = request[REQUEST_ID_KEY]
    tts = parser(data, config.max_text_chars)
    choice, tts = _voice_of(app[CATALOGUE_KEY], tts)
    # Off the event loop: jieba on a long unpunctuated text, and the voice's text frontend
    # measuring every chunk, take a noticeable while.
    chunks = await asyncio.get_running_loop().run_in_executor(
        None, service.chunk_request, tts, choice
    )
    metrics.chunks.inc(len(chunks))
    log.info(
        "request_id=%s route=%s voice=%s speaker=%s emotion=%s chars=%d chunks=%d format=%s "
        "stream=%s",
        request_id,
        route,
        choice.name,
        choice.speaker,
        choice.emotion,
        len(tts.text),
        len(chunks),
        tts.audio_format.value,
        tts.stream,
    )
    target_rate = delivered_rate(tts.audio_format, choice.sample_rate, tts.sample_rate)
    headers = {
        "X-Request-Id": request_id,
        "X-Chunks": str(len(chunks)),
        "X-Sample-Rate": str(target_rate),
        "X-Voice": choice.name,
        "X-Estimated-Audio-Seconds": f"{len(tts.text) * ESTIMATED_SECONDS_PER_CHAR / tts.params.speed:.1f}",
    }
    if tts.speed_requested is not None:  # OpenAI's speed range is wider than the model's
        headers["X-Speed-Clamped"] = f"{tts.params.speed:g}"
        headers["X-Speed-Requested"] = f"{tts.speed_requested:g}"
    if tts.instructions:
        log.info(
            "request_id=%s instructions ignored (%d characters): the voices have no style prompt",
            request_id,
            len(tts.instructions),
        )
    # Bounded by the request's deadline: on expiry its queued and running chunk calls are
    # cancelled and a 504 answered (or the stream cut).
    timeline = timeline_for(choice.manifest) if tts.timestamps else None
    pieces = within_deadline(
        service.pieces(tts, chunks, choice.sample_rate, timeline), CURRENT_DEADLINE.get()
    )
    try:
        return await _respond(
            request, route, tts, headers, pieces, start, choice.sample_rate, target_rate, timeline
        )
    finally:
        await pieces.aclose()  # cancels Triton calls nobody will read (errors, disconnects)


async def _respond(
    request: web.Request,
    route: str,
    tts: SynthesisRequest,
    headers: dict[str, str],
    pieces: AsyncGenerator[np.ndarray, None],
    start: float,
    sample_rate: int,
    target_rate: int | None = None,
    timeline: Timeline | None = None,
) -> web.StreamResponse:
    """Whole file, chunked audio (tts.stream) or OpenAI SSE events (tts.sse); `sample_rate` is
    the voice's, `target_rate` the delivered one; with a `timeline`, the JSON answer of
    frontend/timestamps.py."""
    app = request.app
    rate = target_rate or sample_rate
    metrics = app[METRICS_KEY]
    request_id = request[REQUEST_ID_KEY]
    first, rest = await first_and_rest(pieces)
    first_audio_s = time.monotonic() - start
    metrics.first_audio.labels(route).observe(first_audio_s)
    if tts.stream or tts.sse:
        content_type = SSE_CONTENT_TYPE if tts.sse else tts.audio_format.content_type
        response = web.StreamResponse(headers={**headers, "Content-Type": content_type})
        if tts.sse:
            response.headers["Cache-Control"] = "no-cache"
        response.enable_chunked_encoding()
        encoder = open_encoder(tts.audio_format, sample_rate, rate)
        try:
            if tts.sse:
                samples = await stream_sse(
                    response,
                    request,
                    encoder,
                    first,
                    rest,
                    input_chars=len(tts.text),
                    source_rate=sample_rate,
                )
            else:
                samples = await stream_audio(response, request, encoder, first, rest)
        except ApiError as error:
            # Headers are gone: the only honest signal left is an unfinished chunked body.
            log.error("request_id=%s stream aborted: %s", request_id, error.message)
            metrics.errors.labels(error.code).inc()
            if request.transport is not None:
                request.transport.close()
            return response
        except ConnectionResetError:
            log.info("request_id=%s client disconnected during the stream", request_id)
            metrics.errors.labels("client_disconnected").inc()
            return response
        except Exception:
            log.exception("request_id=%s stream aborted by an internal error", request_id)
            metrics.errors.labels("internal").inc()
            if request.transport is not None:
                request.transport.close()
            return response
    else:
        collected = [first] + [piece async for piece in rest]
        audio = np.concatenate(collected) if len(collected) > 1 else first
        samples = int(audio.size)
        # Off the loop: MP3/AAC of a long text take seconds.
        body = await asyncio.get_running_loop().run_in_executor(
            None, encode, audio, sample_rate, tts.audio_format, rate
        )
        headers["X-Audio-Duration"] = f"{samples / sample_rate:.3f}"
        if timeline is not None:
            answer = timestamps_body(
                base64.b64encode(body).decode("ascii"),
                tts.audio_format.value,
                rate,
                samples / sample_rate,
                timeline,
                tts.subtitles,
            )
            response = web.json_response(answer, headers=headers)
        else:
            response = web.Response(
                body=body, headers={**headers, "Content-Type": tts.audio_format.content_type}
            )
    total_s = time.monotonic() - start
    metrics.latency.labels(route).observe(total_s)
    metrics.audio_seconds.inc(samples / sample_rate)
    log.info(
        "request_id=%s audio=%.2f s first_audio=%.3f s total=%.3f s",
        request_id,
        samples / sample_rate,
        first_audio_s,
        total_s,
    )
    return response


async def healthz(request: web.Request) -> web.Response:
    if request.app[DRAIN_KEY].draining:  # readiness fails first, so traffic moves away
        body = {"status": "draining", "detail": "shutting down", "probe_seconds": 0.0}
        return web.json_response(
            body, status=503, headers={"Retry-After": str(round(RETRY_AFTER_S))}
        )
    result = await request.app[HEALTH_KEY].check()
    body = {
        "status": "ready" if result.ready else "unavailable",
        "detail": result.detail,
        "probe_seconds": round(result.probe_seconds, 3),
    }
    if result.ready:
        return web.json_response(body)
    return web.json_response(body, status=503, headers={"Retry-After": str(round(RETRY_AFTER_S))})


async def metrics_handler(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4"})


async def limits_handler(request: web.Request) -> web.Response:
    config, catalogue = request.app[CONFIG_KEY], request.app[CATALOGUE_KEY]
    return web.json_response(
        {
            "max_text_chars": config.max_text_chars,
            "max_body_bytes": config.max_body_bytes,
            "speed": list(contract.SPEED_RANGE),
            "pitch": list(contract.PITCH_RANGE),
            "energy": list(contract.ENERGY_RANGE),
            "volume": list(VOLUME_RANGE),
            "formats": sorted(NATIVE_FORMATS),
            "openai_response_formats": sorted(OPENAI_FORMATS),
            "stream_formats": sorted(n for n, f in NATIVE_FORMATS.items() if f.streamable),
            "openai_stream_formats": list(OPENAI_STREAM_FORMATS),
            "sample_rates": list(SAMPLE_RATES),
            # Per format, where it takes fewer (Opus: 8/12/16/24/48 kHz only).
            "format_sample_rates": {n: list(f.rates) for n, f in sorted(NATIVE_FORMATS.items())},
            # Of the default voice; GET /v1/voices has every voice's.
            "sample_rate": catalogue.voices[catalogue.default].sample_rate,
            "chunk_max_chars": config.chunk_max_chars,
            "voices": catalogue.names,
            "default_voice": catalogue.default,
            # SSML on /v1/tts (docs/ssml.md) and the per-request lexicon.
            "ssml": ssml_limits(config.max_text_chars),
            # "timestamps": true / "subtitles" on /v1/tts (docs/timestamps.md).
            "timestamps": {
                "voices": [
                    name for name, voice in catalogue.voices.items() if has_alignment(voice.family)
                ],
                "subtitles": list(SUBTITLE_FORMATS),
                "streaming": False,
            },
            "lexicon": {
                "max_entries": MAX_LEXICON_ENTRIES,
                "max_word_chars": LEXICON_MAX_WORD_CHARS,
                "alphabet": "toned pinyin (zeng1, lv4; tone 5 = neutral)",
            },
        }
    )


async def voices_handler(request: web.Request) -> web.Response:
    return web.json_response(request.app[CATALOGUE_KEY].public())


async def openapi_handler(request: web.Request) -> web.Response:
    return web.json_response(build_openapi(request.app[CONFIG_KEY], request.app[CATALOGUE_KEY]))


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


def create_app(
    config: FrontendConfig,
    synthesizer_factory: SynthesizerFactory | None = None,
    environ: dict[str, str] | None = None,
    catalogue: VoiceCatalogue | None = None,
) -> web.Application:
    """Build the app; the synthesizer is created on startup, inside the running loop.

    API keys come from `config.api_keys_file` and TTS_API_KEYS in `environ` (os.environ).
    The voices are `catalogue`, else the manifests under the config's folders (raises
    frontend.voices.CatalogueError when the --default-voice is not installed).
    """
    voices = catalogue or VoiceCatalogue.load(
        config.models_dir, config.voices_dir, config.default_voice
    )
    factory = synthesizer_factory or (lambda cfg: _triton_factory(cfg, voices))
    # Room for the JSON envelope; the exact limit is checked in _read_json with a JSON error.
    app = web.Application(
        middlewares=[request_context, drain_gate, access_control],
        client_max_size=config.max_body_bytes,
    )
    app[CONFIG_KEY] = config
    app[CATALOGUE_KEY] = voices
    app[DRAIN_KEY] = Drain()
    app[POLICY_KEY] = policy_from(
        config.api_keys_file,
        config.rate_limit_rps,
        config.rate_limit_burst,
        config.cors_origins,
        os.environ if environ is None else environ,
    )
    app.on_response_prepare.append(_add_cors_headers)
    app[METRICS_KEY] = FrontendMetrics()
    app[ADMISSION_KEY] = Admission(
        config.max_active_requests,
        config.max_backlog_s,
        ahead_cap_chars=config.per_request_concurrency * config.chunk_max_chars,
    )

    async def on_startup(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, warm_up)
        await loop.run_in_executor(None, voices.load_text_frontends)
        log.info(
            "voices: %s (default %s)",
            ", ".join(f"{m.name} {m.sample_rate} Hz" for m in voices.voices.values()),
            voices.default,
        )
        synthesizer = factory(config)
        retries = app[METRICS_KEY].retries

        def count_retry(error: BaseException) -> None:
            code = getattr(error, "code", type(error).__name__)
            log.warning("retrying a chunk after %s: %s", code, error)
            retries.labels(code).inc()

        app[SERVICE_KEY] = TTSService(config, synthesizer, on_retry=count_retry, catalogue=voices)
        app[HEALTH_KEY] = HealthProbe(
            synthesizer,
            config.health_probe_interval_s,
            config.health_probe_timeout_s,
            params=voices.default_params(),
        )

    async def on_cleanup(app: web.Application) -> None:
        close = getattr(app[SERVICE_KEY].synthesizer, "close", None)
        if close is not None:
            await close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_post("/v1/tts", _synthesis_handler("tts", parse_tts_request))
    app.router.add_post("/v1/audio/speech", _synthesis_handler("openai", parse_openai_request))
    app.router.add_get("/v1/limits", limits_handler)
    app.router.add_get("/v1/voices", voices_handler)
    add_websocket_route(app)  # GET /v1/tts/ws (frontend/websocket.py)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/openapi.json", openapi_handler)
    app.router.add_get("/", index)
    app.router.add_static("/static", STATIC_DIR)
    return app
