"""The `tts` ensemble's request tensors and result, for tritonclient.grpc or tritonclient.http.

Both client modules share the InferInput / as_numpy API, so callers pass the module they use.
Every optional control is sent only when given: the ensemble then applies its defaults.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from mandarin_tts import contract as c

# Benchmarks and the tuner give every request its own SPEED, 1 + i * SPEED_STEP: inaudible,
# but Triton's response cache then never answers and every request costs the full pipeline.
SPEED_STEP = 2.0**-22


def _bytes_input(client_module: ModuleType, name: str, value: str) -> Any:
    tensor = client_module.InferInput(name, [1, 1], "BYTES")
    tensor.set_data_from_numpy(np.array([[value.encode("utf-8")]], dtype=np.object_))
    return tensor


def _fp32_input(client_module: ModuleType, name: str, value: float) -> Any:
    tensor = client_module.InferInput(name, [1, 1], "FP32")
    tensor.set_data_from_numpy(np.array([[value]], dtype=np.float32))
    return tensor


def build_inputs(
    client_module: ModuleType,
    text: str,
    speed: float | None = None,
    *,
    pitch: float | None = None,
    energy: float | None = None,
    speaker: str | None = None,
    emotion: str | None = None,
    lexicon_version: str | None = None,
) -> list[Any]:
    """TEXT BYTES [1,1], plus each given control: SPEED/PITCH/ENERGY FP32 [1,1],
    SPEAKER/EMOTION/LEXICON_VERSION BYTES [1,1]."""
    inputs = [_bytes_input(client_module, c.TTS_IN_TEXT, text)]
    for name, number in (
        (c.TTS_IN_SPEED, speed),
        (c.TTS_IN_PITCH, pitch),
        (c.TTS_IN_ENERGY, energy),
    ):
        if number is not None:
            inputs.append(_fp32_input(client_module, name, number))
    for name, label in (
        (c.TTS_IN_SPEAKER, speaker),
        (c.TTS_IN_EMOTION, emotion),
        (c.TTS_IN_LEXICON_VERSION, lexicon_version),
    ):
        if label is not None:
            inputs.append(_bytes_input(client_module, name, label))
    return inputs


def result_audio(result: Any) -> tuple[np.ndarray, int]:
    """(mono float32 audio, sample rate) of an ensemble result."""
    audio = np.ravel(result.as_numpy(c.TTS_OUT_AUDIO)).astype(np.float32, copy=False)
    sample_rate = int(result.as_numpy(c.TTS_OUT_SAMPLE_RATE).reshape(-1)[0])
    return audio, sample_rate


def audio_seconds(result: Any) -> tuple[float, int]:
    """(seconds of audio, bytes of audio) in an ensemble result."""
    audio, sample_rate = result_audio(result)
    return audio.size / sample_rate, int(audio.nbytes)


def distinct_speeds(start: int = 1) -> Iterator[float]:
    """1 + i * SPEED_STEP for i = start, start + 1, ...: one per request (see SPEED_STEP)."""
    return (1.0 + i * SPEED_STEP for i in itertools.count(start))
