"""ONNX vocoders with the contract's interface (mel [B, T, n_mels] + lengths -> audio).

Both families' vocoders (the bundled bridged HiFi-GAN and KAN-TTS's HiFi-GAN) are
exported with these tensor names, so one class runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.pipeline.components import ItemResult
from mandarin_tts.pipeline.ragged import RaggedOnnx


class OnnxVocoder:
    def __init__(
        self, session: Any, sample_rate: int, n_mels: int = c.N_MELS, max_pad_ratio: float = 1e9
    ) -> None:
        self.sample_rate = sample_rate
        self.n_mels = n_mels
        self.model = RaggedOnnx(
            session,
            c.VOC_IN_MEL,
            c.VOC_IN_MEL_LENGTHS,
            c.VOC_OUT_AUDIO,
            c.VOC_OUT_AUDIO_LENGTHS,
            pad_value=0.0,
            max_pad_ratio=max_pad_ratio,
        )

    def run_batch(self, mels: Sequence[np.ndarray]) -> list[ItemResult]:
        return self.model.run_batch([(np.asarray(m, np.float32), {}) for m in mels])
