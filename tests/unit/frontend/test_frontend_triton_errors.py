"""gRPC errors from Triton become the right API errors; each voice goes to its own ensemble
with its speaker and emotion, and its sample rate is checked."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from frontend_helpers import catalogue_with_voices
from tritonclient.utils import InferenceServerException

from frontend.errors import TextRejected, TritonTimeout, TritonUnavailable
from frontend.retry import RetryBudget, RetryingSynthesizer, RetryPolicy
from frontend.synthesis import VoiceParams
from frontend.triton_client import TritonSynthesizer, map_triton_error
from mandarin_tts import contract


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
        ("StatusCode.INTERNAL", "acoustic: RuntimeError: shape mismatch", TritonUnavailable, 503),
        ("StatusCode.UNKNOWN", "something odd", TritonUnavailable, 503),
        ("StatusCode.RESOURCE_EXHAUSTED", "too big", TritonUnavailable, 503),
        (None, "no status at all", TritonUnavailable, 503),
    ],
)
def test_error_mapping(status: str, message: str, expected: type, http: int) -> None:
    error = map_triton_error(InferenceServerException(msg=message, status=status))
    assert type(error) is expected and error.status == http
    if http == 503:
        assert error.retry_after_s and error.retry_after_s > 0
    if expected is TextRejected:  # the model's words, with its tensor name made plain
        assert message.replace("TEXT", "the text") in error.message


def test_giving_up_never_cancels_a_young_call_in_flight() -> None:
    """Cancelling in-flight gRPC calls answered from the response cache crashes
    tritonserver 2.51, so a call younger than CANCEL_MIN_AGE_S is left running (older
    ones are cancelled: tests/unit/frontend/test_frontend_deadlines.py)."""
    import asyncio

    import numpy as np

    from frontend.synthesis import VoiceParams
    from frontend.triton_client import TritonSynthesizer

    async def main() -> None:
        synth = TritonSynthesizer("127.0.0.1:1")  # never contacted: _infer is replaced
        finished = asyncio.Event()
        cancelled = []

        async def slow_infer(
            voice: str, inputs: object, deadline_s: float, **_: object
        ) -> np.ndarray:
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


# What tritonserver 2.51 made of an onnxruntime exception inside a Python-backend step.
ONNX_FAILURE = (
    "Failed to process the request(s) for model instance 'acoustic_0_0', message: "
    "onnxruntime.capi.onnxruntime_pybind11_state.RuntimeException: [ONNXRuntimeError] : 6 : "
    "RUNTIME_EXCEPTION : Non-zero status code returned while running Gather node. "
    "Name:'/embed/Gather' idx 1024 out of bounds [-219,218] at /opt/models/acoustic.onnx"
)


# What tritonserver 2.51 answered when a step upstream of the vocoder had failed.
WIRING_FAILURE = (
    "[request id: 7] expected 1 inputs but got 0 inputs for model 'vocoder'. Got input(s) [], "
    "but missing required input(s) ['mel']. Please provide all required input(s)."
)


@pytest.mark.parametrize("status", ["StatusCode.INVALID_ARGUMENT", "StatusCode.INTERNAL"])
@pytest.mark.parametrize("failure", [ONNX_FAILURE, WIRING_FAILURE])
def test_an_internal_failure_is_a_retryable_503_without_its_text(
    status: str, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Defects: an onnxruntime failure, and Triton's complaint about a step's missing input,
    came back as INVALID_ARG and reached the client as 400 text_rejected, never retried."""
    with caplog.at_level(logging.WARNING, logger="frontend.triton_client"):
        error = map_triton_error(InferenceServerException(msg=failure, status=status))
    assert type(error) is TritonUnavailable and error.status == 503 and error.retryable
    assert error.code == "backend_unavailable"
    for secret in ("onnxruntime", "Gather", "/opt/models", "acoustic_0_0", "INTERNAL", "mel"):
        assert secret not in error.message
    assert failure in caplog.text  # the detail is in the log, for the operator


def test_the_models_own_invalid_argument_message_reaches_the_client() -> None:
    message = "TEXT has nothing speakable (only punctuation, emoji, ...); send Chinese text"
    error = map_triton_error(
        InferenceServerException(msg=message, status="StatusCode.INVALID_ARGUMENT")
    )
    assert type(error) is TextRejected and error.status == 400 and not error.retryable
    assert message.replace("TEXT", "the text") in error.message


def test_internal_failures_are_retried_within_the_budget() -> None:
    class Failing:
        def __init__(self, failures: int) -> None:
            self.failures, self.calls = failures, 0

        async def synthesize(self, text: str, params: VoiceParams) -> np.ndarray:
            self.calls += 1
            if self.calls <= self.failures:
                raise map_triton_error(
                    InferenceServerException(msg=ONNX_FAILURE, status="StatusCode.INTERNAL")
                )
            return np.ones(10, np.float32)

    policy = RetryPolicy(max_retries_per_chunk=2, retry_budget_per_request=4, backoff_s=0.0)
    recovers = Failing(2)
    audio = asyncio.run(
        RetryingSynthesizer(recovers, policy, RetryBudget(4)).synthesize("你好", VoiceParams())
    )
    assert audio.size == 10 and recovers.calls == 3
    stays_down = Failing(10)
    with pytest.raises(TritonUnavailable) as raised:
        asyncio.run(
            RetryingSynthesizer(stays_down, policy, RetryBudget(4)).synthesize(
                "你好", VoiceParams()
            )
        )
    assert stays_down.calls == 3 and "onnxruntime" not in raised.value.message


class FakeResult:
    def __init__(self, audio: np.ndarray, rate: int) -> None:
        self.outputs = {
            contract.TTS_OUT_AUDIO: audio,
            contract.TTS_OUT_SAMPLE_RATE: np.array([rate], np.int32),
        }

    def as_numpy(self, name: str) -> np.ndarray | None:
        return self.outputs.get(name)


class FakeGrpcClient:
    """Records what TritonSynthesizer sends; answers at `rate`."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.outputs: list[set[str]] = []  # per call, the outputs it asked for

    async def infer(self, model_name: str, inputs: list[Any], **kwargs: Any) -> FakeResult:
        self.outputs.append({o.name() for o in kwargs.get("outputs") or []})
        sent = {}
        for tensor in inputs:
            name = tensor.name()
            sent[name] = (tensor.datatype(), tensor.shape(), bytes(tensor._raw_content or b""))
        self.calls.append((model_name, sent))
        return FakeResult(np.zeros(100, np.float32), self.rate)

    async def close(self) -> None:
        pass


def _synth_with(rate: int) -> tuple[TritonSynthesizer, FakeGrpcClient]:
    catalogue = catalogue_with_voices(Path(tempfile.mkdtemp(prefix="voices-")))
    synth = TritonSynthesizer("127.0.0.1:1", voices=catalogue.voices)
    fake = FakeGrpcClient(rate)
    synth._client = fake  # type: ignore[assignment]
    return synth, fake


def test_each_voice_goes_to_its_ensemble_with_speaker_and_emotion() -> None:
    async def main() -> None:
        synth, fake = _synth_with(24000)
        params = VoiceParams(voice="aishu", speaker="M1", emotion="happy", speed=1.2)
        audio = await synth.synthesize("你好", params)
        assert audio.size == 100
        model, sent = fake.calls[-1]
        assert model == "tts_aishu"
        assert sent[contract.TTS_IN_SPEAKER] == ("BYTES", [1, 1], b"\x02\x00\x00\x00M1")
        assert sent[contract.TTS_IN_EMOTION] == ("BYTES", [1, 1], b"\x05\x00\x00\x00happy")
        assert set(sent) == {
            contract.TTS_IN_TEXT, contract.TTS_IN_SPEED, contract.TTS_IN_PITCH,
            contract.TTS_IN_ENERGY, contract.TTS_IN_SPEAKER, contract.TTS_IN_EMOTION,
        }  # fmt: skip
        # The voice's default speaker and emotion are not sent (the ensemble's defaults).
        await synth.synthesize("你好", VoiceParams(voice="aishu", speaker="F7", emotion="neutral"))
        assert contract.TTS_IN_SPEAKER not in fake.calls[-1][1]
        assert contract.TTS_IN_EMOTION not in fake.calls[-1][1]
        fake.rate = 16000
        await synth.synthesize("你好", VoiceParams(speaker="baker", emotion="neutral"))
        assert fake.calls[-1][0] == contract.MODEL_ENSEMBLE  # the bundled voice keeps "tts"
        await synth.close()

    asyncio.run(main())


def test_a_sample_rate_other_than_the_manifests_is_refused() -> None:
    async def main() -> None:
        synth, _ = _synth_with(16000)  # the server answers 16 kHz for a 24 kHz voice
        with pytest.raises(TritonUnavailable, match="misconfigured") as raised:
            await synth.synthesize("你好", VoiceParams(voice="aishu"))
        assert raised.value.status == 503
        await synth.close()

    asyncio.run(main())


def test_each_call_names_the_deployment_lexicon_version(tmp_path: Path) -> None:
    async def main() -> None:
        synth, fake = _synth_with(16000)
        await synth.synthesize("你好", VoiceParams())
        assert contract.TTS_IN_LEXICON_VERSION not in fake.calls[-1][1]  # no file configured
        path = tmp_path / "lexicon.txt"
        size = path.write_bytes("曾 zeng1\n".encode())
        synth.lexicon_path = path
        await synth.synthesize("你好", VoiceParams())
        first = fake.calls[-1][1][contract.TTS_IN_LEXICON_VERSION][2]
        path.write_text("曾 ceng2 # edited\n", encoding="utf-8")
        await synth.synthesize("你好", VoiceParams())
        second = fake.calls[-1][1][contract.TTS_IN_LEXICON_VERSION][2]
        # An edited file is another key for Triton's response cache.
        assert first != second and first.endswith(f"-{size}".encode())
        await synth.close()

    asyncio.run(main())


def test_a_voice_with_durations_is_always_asked_for_them() -> None:
    """Defect: Triton's response cache keys by inputs only, so audio cached for a call that
    asked for audio alone was served, without durations, to a request for timestamps."""

    async def main() -> None:
        synth, fake = _synth_with(16000)
        await synth.synthesize("你好", VoiceParams())  # the bundled FastSpeech2 voice
        assert contract.TTS_OUT_DURATIONS in fake.outputs[-1]
        assert contract.TTS_OUT_AUDIO in fake.outputs[-1]
        fake.rate = 24000
        await synth.synthesize("你好", VoiceParams(voice="aishu"))  # Sambert: no durations
        assert fake.outputs[-1] == {contract.TTS_OUT_AUDIO, contract.TTS_OUT_SAMPLE_RATE}
        await synth.close()

    asyncio.run(main())
