"""GET /v1/tts/ws: text streamed in (an LLM's output as it arrives), audio streamed out.

The protocol is in docs/websocket.md. In short: a JSON config message, then
{"type": "text", "text": delta} messages, {"type": "flush"} and {"type": "close"}; the server
answers {"type": "ready"}, binary audio frames with {"type": "segment"} events before each
chunk's audio, {"type": "done"} and a normal close, or {"type": "error"} and a close code.

Inside: frontend.text_stream cuts the text at sentence and clause marks as they arrive; the
segments waiting while earlier ones are synthesized are joined into one batch, chunked and fanned
out by TTSService exactly as a POST /v1/tts body would be (at most MAX_BATCHES batches in
flight), and the sender delivers every batch's audio in order through one StreamEncoder.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from aiohttp import WSCloseCode, WSMsgType, web
from multidict import CIMultiDict

from frontend.chunking import Chunk, Pause
from frontend.encoding import StreamEncoder, delivered_rate, open_encoder
from frontend.errors import ApiError, InvalidJson, InvalidParameter, Overloaded, TextTooLong
from frontend.security import presented_key
from frontend.streaming import encode_piece
from frontend.text_stream import Segment, TextSegmenter
from frontend.validation import SynthesisRequest, parse_json_object, parse_tts_request
from frontend.voices import VoiceChoice
from mandarin_tts.text.inline import strip_markup, visible_text

log = logging.getLogger("frontend.websocket")

WS_PATH = "/v1/tts/ws"
# The subprotocol the server speaks. A browser (which cannot set headers on a WebSocket)
# may send its API key as a second offered subprotocol "api-key.<KEY>"; it is never echoed.
SUBPROTOCOL = "tts.v1"
KEY_PROTOCOL_PREFIX = "api-key."
KEY_QUERY = "api_key"
# Fields of the config message (the POST /v1/tts fields less text/stream, plus an optional
# first piece of text).
CONFIG_FIELDS = frozenset(
    {"type", "voice", "speaker", "emotion", "speed", "pitch", "energy", "volume", "format"}
    | {"sample_rate", "lexicon", "text"}
)
MESSAGE_TYPES = ("text", "flush", "close")
DEFAULT_FORMAT = "pcm"
# One client message at most (a text delta is a few characters; 64 KiB is a page of text).
MAX_MESSAGE_BYTES = 64 * 1024
# Messages per session beyond the characters they carry: no-op floods are refused.
SPARE_MESSAGES = 256
# Batches synthesized at once: one being delivered, one being prepared behind it (each is
# fanned out over per_request_concurrency chunks); text arriving meanwhile waits and joins
# the next batch.
MAX_BATCHES = 2
# Audio pieces a batch may hold ready for a slow reader (a piece is one chunk's audio).
READY_PIECES = 2
# Binary frames carry at most this many bytes (a chunk's audio goes out in a few frames).
FRAME_BYTES = 32 * 1024
# Pings every HEARTBEAT_S; a peer that does not answer within half of it is dropped.
HEARTBEAT_S = 20.0


class UpgradeRequired(ApiError, status=426, code="upgrade_required"): ...


class OriginNotAllowed(ApiError, status=403, code="origin_not_allowed"): ...


class ProtocolViolation(ApiError, status=400, code="protocol_error"): ...


class MessageTooLarge(ApiError, status=413, code="message_too_large"): ...


class TooManyMessages(ApiError, status=429, code="too_many_messages"): ...


class IdleTimeout(ApiError, status=408, code="idle_timeout"): ...


class UnsupportedData(ApiError, status=415, code="unsupported_data"): ...


class _ClientGone(Exception):
    """The client closed the connection or stopped answering: nobody to report to."""


def close_code(error: ApiError) -> int:
    """The WebSocket close code that goes with an error event."""
    if isinstance(error, UnsupportedData):
        return WSCloseCode.UNSUPPORTED_DATA
    if isinstance(error, InvalidJson):
        return WSCloseCode.INVALID_TEXT
    if error.status == 413:
        return WSCloseCode.MESSAGE_TOO_BIG
    if error.retryable or error.status == 503:
        return WSCloseCode.TRY_AGAIN_LATER
    if error.status >= 500:
        return WSCloseCode.INTERNAL_ERROR
    return WSCloseCode.POLICY_VIOLATION


def _protocol_key(offered: str) -> str | None:
    for protocol in offered.split(","):
        protocol = protocol.strip()
        if protocol.startswith(KEY_PROTOCOL_PREFIX) and len(protocol) > len(KEY_PROTOCOL_PREFIX):
            return protocol[len(KEY_PROTOCOL_PREFIX) :]
    return None


def credential_headers(request: web.BaseRequest) -> Mapping[str, str]:
    """The headers the access policy reads: on the WebSocket route an API key may also come
    as ?api_key=KEY or as an offered subprotocol api-key.KEY (browsers cannot set headers on
    a WebSocket); a key in the headers wins."""
    if request.path != WS_PATH or presented_key(request.headers) is not None:
        return request.headers
    key = request.query.get(KEY_QUERY) or _protocol_key(
        request.headers.get("Sec-WebSocket-Protocol", "")
    )
    if not key:
        return request.headers
    headers = CIMultiDict(request.headers)
    headers["X-API-Key"] = key
    return headers


def _same_origin(request: web.Request, origin: str) -> bool:
    scheme, _, host = origin.partition("://")
    return bool(host) and host.lower() == request.host.lower()


def _speech_end(piece: np.ndarray) -> int:
    """Samples up to the last audible one (the piece ends with its pause's silence)."""
    loud = np.flatnonzero(piece)
    return int(loud[-1]) + 1 if loud.size else 0


@dataclass
class _Batch:
    """Segments joined and synthesized as one request; its pieces wait in `ready`."""

    text: str
    pause_after: Pause
    ready: asyncio.Queue[tuple[Chunk, np.ndarray] | BaseException | None]
    task: asyncio.Task[None] | None = None


class _Session:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        from frontend.app import CATALOGUE_KEY, CONFIG_KEY, METRICS_KEY, REQUEST_ID_KEY, SERVICE_KEY

        app = request.app
        self.ws = ws
        self.config = app[CONFIG_KEY]
        self.service = app[SERVICE_KEY]
        self.catalogue = app[CATALOGUE_KEY]
        self.metrics = app[METRICS_KEY]
        self.request_id = request[REQUEST_ID_KEY]
        self.idle_s = self.config.ws_idle_timeout_s
        self.max_pending = self.config.ws_max_pending_chars
        self.segmenter = TextSegmenter()
        self.started = time.monotonic()
        # Filled by the config message.
        self.tts: SynthesisRequest | None = None
        self.choice: VoiceChoice | None = None
        self.encoder: StreamEncoder | None = None
        # Counters and state.
        self.received_chars = 0
        self.messages = 0
        self.unsent_chars = 0  # text in batches not yet delivered
        self.samples = 0  # source-rate samples sent, pauses included
        self.deferred_gap = 0  # the pause after the last chunk sent, sent before the next
        self.index = 0
        self.first_text_at: float | None = None
        self.first_audio_s: float | None = None
        self.queued: list[Segment] = []
        self.closing = False
        self.changed = asyncio.Condition()
        self.room = asyncio.Event()
        self.room.set()
        self.slots = asyncio.Semaphore(MAX_BATCHES)
        self.batches: asyncio.Queue[_Batch | None] = asyncio.Queue()
        self.running: set[asyncio.Task[None]] = set()

    # --- receiving ---------------------------------------------------------------------

    async def _receive(self) -> dict[str, Any]:
        """The next client message as a JSON object; idle timeouts while nothing is being
        spoken end the session."""
        while True:
            try:
                msg = await self.ws.receive(timeout=self.idle_s)
            except asyncio.TimeoutError:  # (TimeoutError itself from Python 3.11)
                if self.unsent_chars > 0:
                    continue  # the client is listening, not idle
                raise IdleTimeout(
                    f"no message for {self.idle_s:g} s; send text, flush or close"
                ) from None
            if msg.type is WSMsgType.TEXT:
                break
            if msg.type is WSMsgType.BINARY:
                raise UnsupportedData("send JSON text messages; binary messages are not accepted")
            raise _ClientGone(str(msg.data))
        self.messages += 1
        data = str(msg.data)
        if len(data.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(
                f"a message has at most {MAX_MESSAGE_BYTES} bytes; send the text in pieces"
            )
        if self.messages > self.config.max_text_chars + SPARE_MESSAGES:
            raise TooManyMessages(
                f"more than {self.messages - 1} messages in one session; send fewer, larger "
                "text deltas"
            )
        return parse_json_object(data.encode("utf-8", "surrogatepass"))

    def _configure(self, data: dict[str, Any]) -> str:
        """Check the config message (as POST /v1/tts checks its fields); returns its text."""
        kind = data.get("type", "config")
        if kind != "config":
            raise ProtocolViolation(
                f'the first message must be the config ({{"type": "config", ...}}), '
                f"not {str(kind)[:40]!r}"
            )
        unknown = sorted(set(data) - CONFIG_FIELDS)
        if unknown:
            raise InvalidParameter(
                f"unknown config field {unknown[0][:40]!r}; fields: {', '.join(sorted(CONFIG_FIELDS))}",
                param=unknown[0][:40],
            )
        text = data.get("text", "")
        if not isinstance(text, str):
            raise InvalidParameter("'text' must be a string", param="text")
        fields = {k: v for k, v in data.items() if k not in ("type", "text")}
        fields.setdefault("format", DEFAULT_FORMAT)
        tts = parse_tts_request({**fields, "text": "-"}, 1)  # the same checks, text aside
        if not tts.audio_format.streamable:
            raise InvalidParameter(
                f"format {tts.audio_format.value} cannot be streamed; over the WebSocket use "
                "pcm, wav, mp3, ogg_opus, mulaw or alaw",
                param="format",
            )
        manifest = self.catalogue.manifest(tts.voice)
        choice, params = self.catalogue.choose(manifest, tts.speaker, tts.emotion, tts.params)
        self.tts, self.choice = dataclasses.replace(tts, params=params), choice
        return text

    def _add_text(self, delta: Any) -> None:
        if not isinstance(delta, str):
            raise InvalidParameter("'text' must be a string", param="text")
        delta = strip_markup(delta)  # inline pronunciation markup is ours to insert
        self.received_chars += len(delta)
        if self.received_chars > self.config.max_text_chars:
            raise TextTooLong(
                f"the session has sent {self.received_chars} characters; the maximum is "
                f"{self.config.max_text_chars}; open a new session for more"
            )
        try:
            delta.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidParameter(
                f"'text' has an unpaired surrogate at position {error.start}; send valid "
                "Unicode text",
                param="text",
            ) from error
        self._queue(self.segmenter.feed(delta))

    def _queue(self, segments: list[Segment]) -> None:
        if not segments:
            return
        if self.first_text_at is None:
            self.first_text_at = time.monotonic()
        self.queued.extend(segments)
        self.unsent_chars += sum(len(s.text) for s in segments)
        self._update_room()

    def _update_room(self) -> None:
        if self.unsent_chars + len(self.segmenter.buffered) < self.max_pending:
            self.room.set()
        else:
            self.room.clear()

    async def read(self) -> None:
        """Client messages until its close message; waits (reads nothing, so TCP pushes back
        on the client) while max_pending characters are unspoken."""
        text = self._configure(await self._receive())
        assert self.tts is not None and self.choice is not None
        rate = delivered_rate(self.tts.audio_format, self.choice.sample_rate, self.tts.sample_rate)
        self.encoder = open_encoder(self.tts.audio_format, self.choice.sample_rate, rate)
        await self._send_json(self._ready_event(rate))
        if text:
            self._add_text(text)
            await self._notify()
        while True:
            await self.room.wait()
            data = await self._receive()
            kind = data.get("type")
            if kind == "text":
                self._add_text(data.get("text"))
            elif kind in ("flush", "close"):
                self._queue(self.segmenter.flush())
                if kind == "close":
                    self.closing = True
                    await self._notify()
                    return
            else:
                shown = "a config message again" if kind == "config" else repr(str(kind)[:40])
                raise ProtocolViolation(
                    f"unexpected {shown}; message types after the config: "
                    f"{', '.join(MESSAGE_TYPES)}"
                )
            await self._notify()

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def _ready_event(self, rate: int) -> dict[str, Any]:
        assert self.tts is not None and self.choice is not None
        return {
            "type": "ready",
            "request_id": self.request_id,
            "voice": self.choice.name,
            "speaker": self.choice.speaker,
            "emotion": self.choice.emotion,
            "format": self.tts.audio_format.value,
            "content_type": self.tts.audio_format.content_type,
            "sample_rate": rate,
            "limits": {
                "max_text_chars": self.config.max_text_chars,
                "max_pending_chars": self.max_pending,
                "max_message_bytes": MAX_MESSAGE_BYTES,
                "idle_timeout_s": self.idle_s,
            },
        }

    # --- synthesis ---------------------------------------------------------------------

    async def schedule(self) -> None:
        """Turn queued segments into batches, at most MAX_BATCHES undelivered at a time."""
        while True:
            await self.slots.acquire()
            async with self.changed:
                await self.changed.wait_for(lambda: bool(self.queued) or self.closing)
                segments, self.queued = self.queued, []
            if not segments:  # closing and nothing left
                await self.batches.put(None)
                return
            batch = _Batch(
                "".join(s.text for s in segments),
                segments[-1].pause_after,
                asyncio.Queue(READY_PIECES),
            )
            batch.task = asyncio.ensure_future(self._produce(batch))
            self.running.add(batch.task)
            batch.task.add_done_callback(self.running.discard)
            await self.batches.put(batch)

    async def _produce(self, batch: _Batch) -> None:
        """Chunk and synthesize a batch as TTSService does for one POST (the same cleaning,
        lexicon, chunks and pauses); pieces in order."""
        assert self.tts is not None and self.choice is not None
        try:
            loop = asyncio.get_running_loop()
            try:
                request = dataclasses.replace(self.tts, text=batch.text)  # (its lexicon too)
                chunks = await loop.run_in_executor(
                    None, self.service.chunk_request, request, self.choice
                )
            except InvalidParameter:  # nothing speakable left once cleaned: nothing to say
                await batch.ready.put(None)
                return
            # The pause after the batch is its last segment's: none where a long clause was
            # cut (the text goes on), else at least the cut's (a line break, a flush).
            last = chunks[-1]
            pause = (
                Pause.NONE
                if batch.pause_after is Pause.NONE
                else max(last.pause_after, batch.pause_after)
            )
            chunks[-1] = dataclasses.replace(last, pause_after=pause)
            self.metrics.chunks.inc(len(chunks))
            pieces = self.service.pieces(self.tts, chunks, self.choice.sample_rate)
            try:
                index = 0
                async for piece in pieces:
                    await batch.ready.put((chunks[index], piece))
                    index += 1
            finally:
                await pieces.aclose()
            await batch.ready.put(None)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # delivered in order, by the sender
            await batch.ready.put(error)

    # --- sending -----------------------------------------------------------------------

    async def _send_json(self, event: dict[str, Any]) -> None:
        try:
            await self.ws.send_str(json.dumps(event, ensure_ascii=False))
        except ConnectionError as error:
            raise _ClientGone(str(error)) from error

    async def _send_audio(self, data: bytes) -> None:
        try:
            for start in range(0, len(data), FRAME_BYTES):
                await self.ws.send_bytes(data[start : start + FRAME_BYTES])
        except ConnectionError as error:
            raise _ClientGone(str(error)) from error

    async def _encode(self, audio: np.ndarray) -> bytes:
        assert self.encoder is not None
        return await encode_piece(self.encoder, audio)

    async def send(self) -> None:
        """Deliver the batches in order: per chunk a segment event, then its audio."""
        while True:
            batch = await self.batches.get()
            if batch is None:
                break
            try:
                await self._deliver(batch)
            finally:
                self.unsent_chars -= len(batch.text)
                self._update_room()
                self.slots.release()
        assert self.encoder is not None
        tail = await asyncio.get_running_loop().run_in_executor(None, self.encoder.close)
        if tail:
            await self._send_audio(tail)
        rate = self.choice.sample_rate if self.choice else 1
        await self._send_json(
            {
                "type": "done",
                "audio_seconds": round(self.samples / rate, 3),
                "segments": self.index,
                "characters": self.received_chars,
            }
        )

    async def _deliver(self, batch: _Batch) -> None:
        assert self.tts is not None and self.choice is not None
        rate = self.choice.sample_rate
        last: Chunk | None = None
        while (item := await batch.ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            chunk, piece = item
            start = self.samples + self.deferred_gap
            if self.deferred_gap:
                piece = np.concatenate([np.zeros(self.deferred_gap, np.float32), piece])
                self.deferred_gap = 0
            await self._send_json(
                {
                    "type": "segment",
                    "index": self.index,
                    "text": visible_text(chunk.text),
                    "start": round(start / rate, 3),
                    "end": round((self.samples + _speech_end(piece)) / rate, 3),
                }
            )
            data = await self._encode(piece)
            if data:
                await self._send_audio(data)
            if self.first_audio_s is None and self.first_text_at is not None:
                self.first_audio_s = time.monotonic() - self.first_text_at
                self.metrics.first_audio.labels("ws").observe(self.first_audio_s)
            self.samples += int(piece.size)
            self.index += 1
            last = chunk
        if last is not None:  # its pause goes out only if more speech follows
            self.deferred_gap = self.service.plan.pause_samples(
                last.pause_after, rate, self.tts.params.speed
            )

    # --- the whole session -------------------------------------------------------------

    async def run(self) -> int:
        """Serve the session; returns the close code sent."""
        tasks = [asyncio.ensure_future(c) for c in (self.read(), self.schedule(), self.send())]
        sender = tasks[-1]
        try:
            pending: set[asyncio.Future[None]] = set(tasks)
            while sender in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # raises the first failure
            await self.ws.close(code=WSCloseCode.OK, message=b"done")
            return WSCloseCode.OK
        except _ClientGone:
            return WSCloseCode.GOING_AWAY
        except ApiError as error:
            await self._stop(tasks)  # nothing else may write once the error goes out
            return await self._fail(error)
        except Exception:
            log.exception("request_id=%s websocket session failed", self.request_id)
            await self._stop(tasks)
            internal = ApiError("internal error; see the server log for this request id")
            internal.status, internal.code = 500, "internal"
            return await self._fail(internal)
        finally:
            await self._stop(tasks)  # also cancels the Triton calls of unfinished batches
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def _stop(self, tasks: Sequence[asyncio.Future[None]]) -> None:
        running = [*tasks, *self.running]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _fail(self, error: ApiError) -> int:
        self.metrics.errors.labels(error.code).inc()
        code = close_code(error)
        log.info("request_id=%s websocket error %s: %s", self.request_id, error.code, error.message)
        event = {
            "type": "error",
            "code": error.code,
            "message": error.message,
            "request_id": self.request_id,
        }
        if error.param is not None:
            event["param"] = error.param
        with contextlib.suppress(_ClientGone, RuntimeError):
            await self._send_json(event)
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=error.code.encode()[:120])
        return code


async def tts_websocket(request: web.Request) -> web.StreamResponse:
    """GET /v1/tts/ws (the access policy and drain gate have already let it through)."""
    from frontend.app import ADMISSION_KEY, METRICS_KEY, POLICY_KEY, REQUEST_ID_KEY

    app = request.app
    metrics, admission = app[METRICS_KEY], app[ADMISSION_KEY]
    ws = web.WebSocketResponse(
        protocols=(SUBPROTOCOL,),
        heartbeat=HEARTBEAT_S,
        # Far above ours, so that ours answers with an event (JSON \u escapes make a
        # message up to 6 bytes per character); aiohttp's own bound stays for memory.
        max_msg_size=16 * MAX_MESSAGE_BYTES,
    )
    if not ws.can_prepare(request).ok:
        metrics.requests.labels("ws", "426").inc()
        raise UpgradeRequired(
            f"{WS_PATH} is a WebSocket endpoint: connect with a WebSocket client "
            "(docs/websocket.md); POST /v1/tts takes whole texts"
        )
    origin = request.headers.get("Origin")
    # Browsers do not apply CORS to WebSockets: the same origins as for HTTP, checked here.
    if (
        origin
        and not _same_origin(request, origin)
        and app[POLICY_KEY].allowed_origin(origin) is None
    ):
        metrics.requests.labels("ws", "403").inc()
        raise OriginNotAllowed(
            f"origin {origin[:100]!r} may not open WebSockets here (see --cors-origins)"
        )
    refusal = admission.admit()
    if refusal is not None:
        metrics.requests.labels("ws", "429").inc()
        raise Overloaded(f"{refusal}; retry shortly", retry_after_s=admission.retry_after_s())
    metrics.active.inc()
    code: int = WSCloseCode.INTERNAL_ERROR
    session: _Session | None = None
    try:
        await ws.prepare(request)
        session = _Session(request, ws)
        code = await session.run()
        return ws
    finally:
        admission.leave(None)  # sessions last as long as the client likes: not a service time
        metrics.active.dec()
        metrics.requests.labels("ws", str(int(code))).inc()
        if session is not None:
            if session.choice is not None:
                metrics.audio_seconds.inc(session.samples / session.choice.sample_rate)
            log.info(
                "request_id=%s websocket closed %d: voice=%s chars=%d segments=%d audio=%.2f s "
                "first_audio=%s session=%.1f s",
                request[REQUEST_ID_KEY],
                code,
                session.choice.name if session.choice else "-",
                session.received_chars,
                session.index,
                session.samples / session.choice.sample_rate if session.choice else 0.0,
                f"{session.first_audio_s:.3f} s" if session.first_audio_s is not None else "-",
                time.monotonic() - session.started,
            )


def add_websocket_route(app: web.Application) -> None:
    app.router.add_get(WS_PATH, tts_websocket)
