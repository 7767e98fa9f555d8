"""The Triton `tts` ensemble over tritonclient's asyncio gRPC client, errors mapped to ApiError."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import tritonclient.grpc.aio as grpcclient
from tritonclient.utils import InferenceServerException

from frontend.errors import ApiError, TextRejected, TritonTimeout, TritonUnavailable
from frontend.synthesis import VoiceParams
from mandarin_tts import contract

RETRY_AFTER_S = 5.0
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


def _input(name: str, array: np.ndarray, datatype: str) -> grpcclient.InferInput:
    tensor = grpcclient.InferInput(name, list(array.shape), datatype)
    tensor.set_data_from_numpy(array)
    return tensor


def map_triton_error(error: InferenceServerException) -> ApiError:
    status = str(error.status() or "")
    message = error.message() or str(error)
    if status.endswith("INVALID_ARGUMENT"):
        return TextRejected(f"the text model rejected a chunk: {message}")
    if status.endswith("DEADLINE_EXCEEDED") or "timeout expired" in message.lower():
        return TritonTimeout(
            "the inference server did not answer in time; retry later", retry_after_s=RETRY_AFTER_S
        )
    # The detail (internal addresses, stub names) goes to the log, not to the public client.
    logger.warning("inference server error %s: %s", status or "error", message)
    return TritonUnavailable(
        f"the inference server is unavailable ({status or 'error'}); retry later",
        retry_after_s=RETRY_AFTER_S,
    )


class TritonSynthesizer:
    """One shared gRPC channel; create it inside the running event loop."""

    sample_rate = contract.OUTPUT_SAMPLE_RATE

    def __init__(
        self, url: str, model_name: str = contract.MODEL_ENSEMBLE, timeout_s: float = 60.0
    ):
        self.url = url
        self.model_name = model_name
        self.timeout_s = timeout_s
        self._client = grpcclient.InferenceServerClient(url, channel_args=CHANNEL_ARGS)
        self._in_flight: set[asyncio.Future[np.ndarray]] = set()
        self._outputs = [
            grpcclient.InferRequestedOutput(contract.TTS_OUT_AUDIO),
            grpcclient.InferRequestedOutput(contract.TTS_OUT_SAMPLE_RATE),
        ]

    async def synthesize(
        self, text: str, params: VoiceParams, timeout_s: float | None = None
    ) -> np.ndarray:
        inputs = [
            _input(
                contract.TTS_IN_TEXT, np.array([[text.encode("utf-8")]], dtype=np.object_), "BYTES"
            ),
            _input(contract.TTS_IN_SPEED, np.array([[params.speed]], np.float32), "FP32"),
            _input(contract.TTS_IN_PITCH, np.array([[params.pitch]], np.float32), "FP32"),
            _input(contract.TTS_IN_ENERGY, np.array([[params.energy]], np.float32), "FP32"),
        ]
        deadline_s = timeout_s or self.timeout_s
        call = asyncio.ensure_future(self._infer(inputs, deadline_s))
        # Never cancel a call Triton is working on: cancelling in-flight gRPC calls crashed
        # tritonserver 2.51 (SIGSEGV) in our tests.  Callers that give up (client gone, an
        # earlier chunk failed, probe timeout) only stop waiting; the call runs to its end.
        self._in_flight.add(call)
        call.add_done_callback(self._forget)
        return await asyncio.shield(call)

    def _forget(self, call: asyncio.Future[np.ndarray]) -> None:
        self._in_flight.discard(call)
        if not call.cancelled():
            call.exception()  # retrieved, so an abandoned failure is not reported as unhandled

    async def _infer(self, inputs: list[grpcclient.InferInput], deadline_s: float) -> np.ndarray:
        try:
            result = await self._client.infer(
                self.model_name,
                inputs,
                outputs=self._outputs,
                # Server-side too (the ensemble passes it to its steps): Triton drops a chunk
                # we stopped waiting for.  An override can only shorten the steps' default
                # queue timeouts, never extend them.
                timeout=int(deadline_s * 1_000_000),
                # Later than the server's own timeout: a gRPC deadline cancels the call.
                client_timeout=deadline_s + 30.0,
            )
        except InferenceServerException as error:
            raise map_triton_error(error) from error
        audio = result.as_numpy(contract.TTS_OUT_AUDIO)
        rate = result.as_numpy(contract.TTS_OUT_SAMPLE_RATE)
        if audio is None:
            raise TritonUnavailable(
                "the inference server returned no audio", retry_after_s=RETRY_AFTER_S
            )
        if rate is not None and int(np.ravel(rate)[0]) != self.sample_rate:
            raise TritonUnavailable(
                f"unexpected sample rate {int(np.ravel(rate)[0])} from the server"
            )
        return np.ravel(audio).astype(np.float32, copy=False)

    async def close(self) -> None:
        if self._in_flight:  # let abandoned calls finish before the channel goes away
            await asyncio.wait(list(self._in_flight), timeout=10.0)
        await self._client.close()
