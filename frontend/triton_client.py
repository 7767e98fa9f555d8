"""Each voice's Triton ensemble over tritonclient's asyncio gRPC client, errors mapped to
ApiError."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tritonclient.grpc.aio as grpcclient
from tritonclient.utils import InferenceServerException

from frontend.deadline import CallCost, call_timeout_s
from frontend.errors import (
    RETRY_AFTER_S,
    ApiError,
    TextRejected,
    TritonTimeout,
    TritonUnavailable,
)
from frontend.synthesis import VoiceParams
from frontend.text_cleanup import public_reason
from frontend.timestamps import AlignedAudio, ChunkAlignment
from mandarin_tts import contract
from mandarin_tts.serving.step_io import has_alignment
from mandarin_tts.serving.tts_inputs import build_inputs
from mandarin_tts.text.lexicon import file_version
from mandarin_tts.voices.manifest import VoiceManifest
from mandarin_tts.voices.registry import BUNDLED_VOICE, ensemble_name

# tritonclient's defaults (large messages, keepalive) plus a short reconnect backoff: after
# Triton restarts, gRPC's default backoff (growing towards 120 s) would keep answering 503
# long after the server is back.
CHANNEL_ARGS = [
    ("grpc.max_send_message_length", grpcclient.MAX_GRPC_MESSAGE_SIZE),
    ("grpc.max_receive_message_length", grpcclient.MAX_GRPC_MESSAGE_SIZE),
    ("grpc.keepalive_time_ms", grpcclient.KeepAliveOptions().keepalive_time_ms),
    ("grpc.keepalive_timeout_ms", grpcclient.KeepAliveOptions().keepalive_timeout_ms),
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


logger = logging.getLogger(__name__)

ALIGNMENT_OUTPUTS = (
    contract.TTS_OUT_CHARS,
    contract.TTS_OUT_CHAR_PINYIN,
    contract.TTS_OUT_SYMBOL_CHARS,
    contract.TTS_OUT_DURATIONS,
)


def _strings(array: np.ndarray | None) -> tuple[str, ...]:
    if array is None:
        return ()
    return tuple(x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in np.ravel(array))


def alignment_of(result: Any) -> ChunkAlignment | None:
    """The timestamp outputs of an ensemble result, or None when it has no usable ones."""
    symbol_chars = result.as_numpy(contract.TTS_OUT_SYMBOL_CHARS)
    durations = result.as_numpy(contract.TTS_OUT_DURATIONS)
    if symbol_chars is None or durations is None:
        return None
    alignment = ChunkAlignment(
        _strings(result.as_numpy(contract.TTS_OUT_CHARS)),
        _strings(result.as_numpy(contract.TTS_OUT_CHAR_PINYIN)),
        np.ravel(symbol_chars).astype(np.int64),
        np.ravel(durations).astype(np.int64),
    )
    return alignment if alignment.usable() else None


# The client-side gRPC deadline of a call, beyond the server-side timeout sent with it: a
# live server reports its own timeout first (with its reason); a hung one is given up on
# this much later.
CLIENT_TIMEOUT_MARGIN_S = 2.0
# An abandoned call (client gone, request deadline or an earlier chunk failed) is cancelled
# only once it is this old. Cancelling a call that the response cache is answering crashes
# tritonserver 2.51 (SIGSEGV in pthread_mutex_lock; reproduced with 8 cached calls cancelled
# 0-5 ms after sending, while 800 uncached calls cancelled 0-3000 ms after sending never
# crashed it). A cache hit is answered within milliseconds, so a call still running after
# this is being computed, and cancelling it frees Triton's queues of work nobody reads.
CANCEL_MIN_AGE_S = 0.5


# INVALID_ARGUMENT messages that are not a model's words to the client but an internal
# failure reported with the wrong code (tritonserver 2.51 maps a Python-backend exception,
# e.g. from onnxruntime, to INVALID_ARG): treated as a backend failure, never shown.
INTERNAL_MARKERS = (
    "onnxruntime",
    "traceback (most recent call last)",
    "failed to process the request",  # the Python backend's wrapper of an uncaught exception
    "stub process",
    "out of memory",
    # Triton's own check of a step's inputs: the ensemble's wiring, never the client's text
    # (seen when a step upstream had failed: "expected 1 inputs but got 0 inputs for model
    # 'vocoder' ... missing required input(s) ['mel']").
    "inputs but got",
    "missing required input",
)


def _looks_internal(message: str) -> bool:
    lowered = message.lower()
    return any(marker in lowered for marker in INTERNAL_MARKERS)


def map_triton_error(error: InferenceServerException) -> ApiError:
    """INVALID_ARGUMENT is the model's answer to the request (its message is written for
    clients): 400.  Every other code (INTERNAL, UNKNOWN, UNAVAILABLE, ...) is the backend's
    trouble: 503, retryable, with the detail in our log only."""
    status = str(error.status() or "")
    message = error.message() or str(error)
    if status.endswith("INVALID_ARGUMENT") and not _looks_internal(message):
        # Public words only: no ensemble names, request ids or tensor names.
        return TextRejected(f"the model refused a chunk: {public_reason(message)}")
    if status.endswith("DEADLINE_EXCEEDED") or "timeout expired" in message.lower():
        return TritonTimeout(
            "the inference server did not answer in time; retry later", retry_after_s=RETRY_AFTER_S
        )
    # The detail (internal addresses, stub names, exception text) goes to the log, not to
    # the public client.
    logger.warning("inference server error %s: %s", status or "error", message)
    return TritonUnavailable(
        "the inference server failed or is unavailable; retry later",
        retry_after_s=RETRY_AFTER_S,
    )


class TritonSynthesizer:
    """One shared gRPC channel; create it inside the running event loop.

    `params.voice` selects the ensemble (`ensemble_name(voice)`; `model_name` for the bundled
    voice); the SAMPLE_RATE it returns must be the voice's manifest's.  SPEAKER and EMOTION
    are sent only when they are not the voice's defaults (the ensemble's defaults are the
    same), so default requests also work with model repositories rendered before them."""

    def __init__(
        self,
        url: str,
        model_name: str = contract.MODEL_ENSEMBLE,
        timeout_s: float = 60.0,
        voices: Mapping[str, VoiceManifest] | None = None,
        cost: CallCost | None = None,
        lexicon_path: Path | None = None,
    ):
        """`cost` sets each call's timeout from its text (frontend/deadline.py); without it
        every call gets `timeout_s`. `lexicon_path`: the deployment lexicon file Triton's
        text frontend reads (MANDARIN_TTS_LEXICON); each call names its version, so
        Triton's response cache never answers an edited file with audio of the old one."""
        self.lexicon_path = lexicon_path
        self.url = url
        self.model_name = model_name
        self.timeout_s = timeout_s
        self.cost = cost or CallCost(floor_s=timeout_s, cap_s=timeout_s)
        self.voices = dict(voices or {})
        self._client = grpcclient.InferenceServerClient(url, channel_args=CHANNEL_ARGS)
        self._in_flight: set[asyncio.Future[grpcclient.InferResult]] = set()
        self._outputs = [
            grpcclient.InferRequestedOutput(contract.TTS_OUT_AUDIO),
            grpcclient.InferRequestedOutput(contract.TTS_OUT_SAMPLE_RATE),
        ]
        # Every call to a voice with durations asks for them, timestamps or not: Triton's
        # response cache keys by the request's inputs only, so an answer cached without
        # them would later be served to a request for timestamps (they add ~1 KB a chunk).
        self._aligned_outputs = [
            *self._outputs,
            *(grpcclient.InferRequestedOutput(name) for name in ALIGNMENT_OUTPUTS),
        ]

    def ensemble(self, voice: str) -> str:
        return self.model_name if voice == BUNDLED_VOICE else ensemble_name(voice)

    async def synthesize(
        self, text: str, params: VoiceParams, timeout_s: float | None = None
    ) -> np.ndarray:
        result = await self._call(text, params, timeout_s, self._outputs_for(params.voice))
        return self._audio(params.voice, result)

    def _outputs_for(self, voice: str) -> list[grpcclient.InferRequestedOutput]:
        manifest = self.voices.get(voice)
        aligned = has_alignment(manifest.family) if manifest else voice == BUNDLED_VOICE
        return self._aligned_outputs if aligned else self._outputs

    async def synthesize_aligned(
        self, text: str, params: VoiceParams, timeout_s: float | None = None
    ) -> AlignedAudio:
        """The chunk's audio with its characters' symbols and durations (timestamps)."""
        result = await self._call(text, params, timeout_s, self._aligned_outputs)
        audio = self._audio(params.voice, result)
        alignment = alignment_of(result)
        if alignment is None:
            raise TritonUnavailable(
                f"voice {params.voice!r}: the inference server returned no durations for "
                "timestamps (its model repository predates them, or it cached this text for "
                "a client that asked for audio only); retry without timestamps",
                retry_after_s=RETRY_AFTER_S,
            )
        return AlignedAudio(audio, alignment)

    async def _call(
        self,
        text: str,
        params: VoiceParams,
        timeout_s: float | None,
        outputs: list[grpcclient.InferRequestedOutput],
    ) -> grpcclient.InferResult:
        manifest = self.voices.get(params.voice)
        speaker, emotion = params.speaker or None, params.emotion or None
        if manifest is not None:  # absent: the ensemble uses the voice's default
            speaker = None if speaker == manifest.default_speaker else speaker
            emotion = None if emotion == manifest.default_emotion else emotion
        inputs = build_inputs(
            grpcclient,
            text,
            params.speed,
            pitch=params.pitch,
            energy=params.energy,
            speaker=speaker,
            emotion=emotion,
            lexicon_version=file_version(self.lexicon_path) if self.lexicon_path else None,
        )
        deadline_s = timeout_s or call_timeout_s(self.cost, len(text))
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        extra = {} if outputs is self._outputs else {"outputs": outputs}
        call = asyncio.ensure_future(self._infer(params.voice, inputs, deadline_s, **extra))
        self._in_flight.add(call)
        call.add_done_callback(self._forget)
        try:
            # Shielded: a caller that gives up stops waiting at once, and the call itself is
            # cancelled only once it is CANCEL_MIN_AGE_S old (never a cache hit then).
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            if not call.done():
                delay = max(0.0, sent_at + CANCEL_MIN_AGE_S - loop.time())
                loop.call_later(delay, call.cancel)
            raise

    def _forget(self, call: asyncio.Future[grpcclient.InferResult]) -> None:
        self._in_flight.discard(call)
        if not call.cancelled():
            call.exception()  # retrieved, so an abandoned failure is not reported as unhandled

    async def _infer(
        self,
        voice: str,
        inputs: list[grpcclient.InferInput],
        deadline_s: float,
        outputs: list[grpcclient.InferRequestedOutput] | None = None,
    ) -> grpcclient.InferResult:
        try:
            return await self._client.infer(
                self.ensemble(voice),
                inputs,
                outputs=outputs or self._outputs,
                # Server-side too (the ensemble passes it to its steps): Triton drops a chunk
                # we stopped waiting for.  An override can only shorten the steps' default
                # queue timeouts, never extend them.
                timeout=int(deadline_s * 1_000_000),
                # A little later than the server's own timeout, which says why it expired.
                client_timeout=deadline_s + CLIENT_TIMEOUT_MARGIN_S,
            )
        except InferenceServerException as error:
            raise map_triton_error(error) from error

    def _audio(self, voice: str, result: grpcclient.InferResult) -> np.ndarray:
        audio = result.as_numpy(contract.TTS_OUT_AUDIO)
        rate = result.as_numpy(contract.TTS_OUT_SAMPLE_RATE)
        if audio is None:
            raise TritonUnavailable(
                "the inference server returned no audio", retry_after_s=RETRY_AFTER_S
            )
        manifest = self.voices.get(voice)
        expected = manifest.sample_rate if manifest is not None else None
        if expected is None and voice == BUNDLED_VOICE:
            expected = contract.OUTPUT_SAMPLE_RATE
        if rate is not None and expected is not None and int(np.ravel(rate)[0]) != expected:
            # The served model is not the one the manifest describes (a stale deployment):
            # the audio would play at the wrong speed, so none is returned.
            logger.error(
                "voice %r: the server returned audio at %d Hz, its manifest says %d Hz",
                voice,
                int(np.ravel(rate)[0]),
                expected,
            )
            raise TritonUnavailable(
                f"voice {voice!r} is misconfigured on the server (unexpected sample rate); "
                "retry later or choose another voice",
                retry_after_s=RETRY_AFTER_S,
            )
        return np.ravel(audio).astype(np.float32, copy=False)

    async def is_live(self, timeout_s: float) -> bool:
        """Triton answers its gRPC liveness check within `timeout_s` (a hung or stopped
        server does not; a busy one does)."""
        try:
            return bool(await self._client.is_server_live(client_timeout=timeout_s))
        except InferenceServerException:
            return False

    async def close(self) -> None:
        if self._in_flight:  # let abandoned calls finish before the channel goes away
            await asyncio.wait(list(self._in_flight), timeout=10.0)
        await self._client.close()
