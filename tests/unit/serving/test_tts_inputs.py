"""The `tts` ensemble's request tensors, with the real tritonclient modules."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

from mandarin_tts import contract as c
from mandarin_tts.serving.tts_inputs import (
    SPEED_STEP,
    audio_seconds,
    build_inputs,
    distinct_speeds,
    result_audio,
)


def described(inputs: list) -> dict[str, tuple[str, list[int]]]:
    return {i.name(): (i.datatype(), list(i.shape())) for i in inputs}


@pytest.mark.parametrize("client_module", [grpcclient, httpclient], ids=["grpc", "http"])
def test_text_alone_and_every_control(client_module: ModuleType) -> None:
    assert described(build_inputs(client_module, "你好")) == {c.TTS_IN_TEXT: ("BYTES", [1, 1])}
    every = build_inputs(
        client_module, "你好", 1.1, pitch=0.9, energy=1.2, speaker="f1", emotion="happy"
    )
    assert described(every) == {
        c.TTS_IN_TEXT: ("BYTES", [1, 1]),
        c.TTS_IN_SPEED: ("FP32", [1, 1]),
        c.TTS_IN_PITCH: ("FP32", [1, 1]),
        c.TTS_IN_ENERGY: ("FP32", [1, 1]),
        c.TTS_IN_SPEAKER: ("BYTES", [1, 1]),
        c.TTS_IN_EMOTION: ("BYTES", [1, 1]),
    }


def test_only_the_given_controls_are_sent() -> None:
    inputs = build_inputs(grpcclient, "你好", pitch=0.9, emotion="sad")
    assert [i.name() for i in inputs] == [c.TTS_IN_TEXT, c.TTS_IN_PITCH, c.TTS_IN_EMOTION]


def test_text_is_sent_as_utf8() -> None:
    (text,) = build_inputs(grpcclient, "语音")
    raw = text._raw_content  # gRPC keeps serialized BYTES here: 4-byte length + payload
    assert raw == len("语音".encode()).to_bytes(4, "little") + "语音".encode()


class FakeResult:
    def __init__(self, audio: np.ndarray, sample_rate: int) -> None:
        self.outputs = {
            c.TTS_OUT_AUDIO: audio,
            c.TTS_OUT_SAMPLE_RATE: np.array([[sample_rate]], np.int32),
        }

    def as_numpy(self, name: str) -> np.ndarray:
        return self.outputs[name]


def test_result_audio_and_seconds() -> None:
    result = FakeResult(np.zeros((1, 8000), np.float32), 16000)
    audio, rate = result_audio(result)
    assert audio.shape == (8000,) and audio.dtype == np.float32 and rate == 16000
    assert audio_seconds(result) == (0.5, 32000)


def test_distinct_speeds_differ_but_stay_inaudible() -> None:
    speeds = distinct_speeds()
    first = [next(speeds) for _ in range(1000)]
    assert first[0] == 1.0 + SPEED_STEP and len(set(first)) == 1000
    assert max(first) - 1.0 < 1e-3
