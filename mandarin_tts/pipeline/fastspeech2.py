"""The bundled family: our FastSpeech2 ONNX (Baker symbol ids -> 24 kHz-space mel)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.pipeline.components import AcousticRequest, AlignedResult, ItemResult
from mandarin_tts.pipeline.ragged import Item, RaggedOnnx


class FastSpeech2Acoustic:
    n_mels = c.N_MELS

    def __init__(self, session: Any, max_pad_ratio: float = 1e9) -> None:
        self.model = RaggedOnnx(
            session,
            c.AC_IN_IDS,
            c.AC_IN_LENGTHS,
            c.AC_OUT_MEL,
            c.AC_OUT_MEL_LENGTHS,
            pad_value=c.PAD_ID,
            max_pad_ratio=max_pad_ratio,
        )

    def _items(self, requests: Sequence[AcousticRequest]) -> list[Item]:
        return [
            (
                r.tensors[c.AC_IN_IDS],
                {c.AC_IN_SPEED: r.speed, c.AC_IN_PITCH: r.pitch, c.AC_IN_ENERGY: r.energy},
            )
            for r in requests
        ]

    def run_batch(self, requests: Sequence[AcousticRequest]) -> list[ItemResult]:
        return self.model.run_batch(self._items(requests))

    @property
    def reports_durations(self) -> bool:
        """The ONNX file has the durations output (the stand-ins of old builds may not)."""
        return c.AC_OUT_DURATIONS in self.model.output_names()

    def run_batch_aligned(self, requests: Sequence[AcousticRequest]) -> list[AlignedResult]:
        """Per item: (mel [T', 80], frames per symbol [T] int64) or its exception."""
        results = self.model.run_batch_with(self._items(requests), (c.AC_OUT_DURATIONS,))
        return [r if isinstance(r, Exception) else (r[0], r[1]) for r in results]

    def mel(self, ids: np.ndarray) -> np.ndarray:
        """One sentence's mel [T', 80] at neutral prosody; raises the error run_batch gives."""
        ids = np.asarray(ids, np.int64).reshape(-1)
        (mel,) = self.run_batch([AcousticRequest({c.AC_IN_IDS: ids})])
        if isinstance(mel, Exception):
            raise mel
        return mel
