"""Synthesis straight from Triton's `tts` ensemble over HTTP or gRPC (no frontend).

Long text is chunked and assembled with the frontend's own modules, so the result matches
what the service returns; chunks are sent one after another (the frontend fans them out)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from client.progress import ProgressBar
from frontend.assembly import Assembler, apply_volume
from frontend.chunking import split_text
from frontend.config import FrontendConfig
from frontend.encoding import AudioFormat, encode
from mandarin_tts import contract


def _infer_fn(protocol: str, url: str, model: str) -> Callable[[str, float], np.ndarray]:
    if protocol == "grpc":
        import tritonclient.grpc as tc
    elif protocol == "http":
        import tritonclient.http as tc
    else:
        raise ValueError(f"protocol must be http or grpc, not {protocol!r}")
    client = tc.InferenceServerClient(url)

    def infer(text: str, speed: float) -> np.ndarray:
        text_in = tc.InferInput(contract.TTS_IN_TEXT, [1, 1], "BYTES")
        text_in.set_data_from_numpy(np.array([[text.encode("utf-8")]], dtype=np.object_))
        speed_in = tc.InferInput(contract.TTS_IN_SPEED, [1, 1], "FP32")
        speed_in.set_data_from_numpy(np.array([[speed]], np.float32))
        result = client.infer(model, [text_in, speed_in])
        return np.ravel(result.as_numpy(contract.TTS_OUT_AUDIO)).astype(np.float32)

    return infer


def synthesize(
    text: str,
    url: str,
    protocol: str = "grpc",
    *,
    speed: float = 1.0,
    audio_format: str = "wav",
    model: str = contract.MODEL_ENSEMBLE,
    show_progress: bool = False,
) -> bytes:
    defaults = FrontendConfig()  # chunk exactly as the frontend does
    chunks = split_text(text, defaults.chunk_max_chars, defaults.first_chunk_max_chars)
    if not chunks:
        raise ValueError("the text has nothing to speak")
    infer = _infer_fn(protocol, url, model)
    assembler = Assembler(contract.OUTPUT_SAMPLE_RATE, speed)
    bar = ProgressBar(len(chunks), f"{protocol} chunks", enabled=show_progress)
    pieces = []
    for index, chunk in enumerate(chunks):
        audio = infer(chunk.text, speed)
        pieces.append(assembler.piece(audio, chunk.pause_after, index == len(chunks) - 1))
        bar.update(index + 1)
    bar.finish()
    audio = apply_volume(np.concatenate(pieces), 1.0)
    return encode(audio, contract.OUTPUT_SAMPLE_RATE, AudioFormat(audio_format))
