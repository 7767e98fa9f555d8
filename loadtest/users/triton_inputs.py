"""The `tts` ensemble's request tensors, for either tritonclient.grpc or tritonclient.http."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from mandarin_tts import contract as c


def build_inputs(client_module: ModuleType, text: str, speed: float | None = None) -> list[Any]:
    """TEXT BYTES [1,1] and, if given, SPEED FP32 [1,1] (both client modules share this API)."""
    text_in = client_module.InferInput(c.TTS_IN_TEXT, [1, 1], "BYTES")
    text_in.set_data_from_numpy(np.array([[text.encode("utf-8")]], dtype=object))
    inputs = [text_in]
    if speed is not None:
        speed_in = client_module.InferInput(c.TTS_IN_SPEED, [1, 1], "FP32")
        speed_in.set_data_from_numpy(np.array([[speed]], dtype=np.float32))
        inputs.append(speed_in)
    return inputs


def audio_seconds(result: Any) -> tuple[float, int]:
    """(seconds of audio, bytes of audio) in an ensemble result."""
    audio = result.as_numpy(c.TTS_OUT_AUDIO)
    sample_rate = int(result.as_numpy(c.TTS_OUT_SAMPLE_RATE).reshape(-1)[0])
    return audio.size / sample_rate, int(audio.nbytes)
