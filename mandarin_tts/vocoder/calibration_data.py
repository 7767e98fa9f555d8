"""Real acoustic mels for int8 calibration: calibration text -> our frontend -> acoustic ONNX.

The vocoder is calibrated on what it will actually be fed (the acoustic model's mels,
bridge included in the vocoder graph), not on synthetic noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from mandarin_tts.pipeline.ragged import vocoder_feeds
from mandarin_tts.vocoder.calibration_text import CALIBRATION_SENTENCES


def acoustic_mels(
    acoustic_onnx: Path, sentences: Sequence[str] = CALIBRATION_SENTENCES, threads: int = 2
) -> list[np.ndarray]:
    """One acoustic-space mel [T, 80] per sentence (speed, pitch and energy at 1), from
    the product's text frontend and acoustic model."""
    from mandarin_tts.pipeline import AcousticRequest
    from mandarin_tts.pipeline.fastspeech2 import FastSpeech2Acoustic
    from mandarin_tts.serving.ort_session import OrtSettings, make_session
    from mandarin_tts.voices.text_frontends import BakerSymbolsFrontend

    frontend = BakerSymbolsFrontend()
    acoustic = FastSpeech2Acoustic(
        make_session(acoustic_onnx, OrtSettings(intra_op_threads=threads))
    )
    mels = []
    for sentence in sentences:
        encoded = frontend.encode(sentence, "", "")
        (mel,) = acoustic.run_batch([AcousticRequest(encoded.tensors)])
        if isinstance(mel, Exception):
            raise mel
        mels.append(np.ascontiguousarray(mel, dtype=np.float32))
    return mels


def vocoder_feed(mel: np.ndarray) -> dict[str, np.ndarray]:
    """The vocoder's inputs for one mel [T, 80] as a batch of one."""
    return vocoder_feeds([mel])


class MelCalibrationReader(CalibrationDataReader):
    """onnxruntime's calibration reader over a fixed list of mels, one sentence per run.

    `set_range` lets the calibrator collect one slice at a time (ORT's
    CalibStridedMinMax option), which bounds the memory the histogram methods need:
    the calibration graph outputs every conv activation at 16 kHz.
    """

    def __init__(self, mels: Sequence[np.ndarray]) -> None:
        self._mels = list(mels)
        self._start, self._end = 0, len(self._mels)
        self._next = 0

    def __len__(self) -> int:
        return len(self._mels)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._start, self._end = start_index, min(end_index, len(self._mels))
        self._next = self._start

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._next >= self._end:
            return None
        feed = vocoder_feed(self._mels[self._next])
        self._next += 1
        return feed

    def rewind(self) -> None:
        self._next = self._start
