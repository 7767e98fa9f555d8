"""ONNX vocoders with the contract's interface (mel [B, T, n_mels] + lengths -> audio).

Both families' vocoders (the bundled bridged HiFi-GAN and KAN-TTS's HiFi-GAN) are
exported with these tensor names, so one class runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.pipeline.components import ItemResult
from mandarin_tts.pipeline.ragged import Item, RaggedOnnx
from mandarin_tts.serving.peer_activity import PeerActivity


@dataclass(frozen=True)
class SharedCores:
    """A second session of the same file with fewer threads, for runs that start while
    another instance of the model is running (`PeerActivity`)."""

    narrow_session: Any
    peers: PeerActivity


class OnnxVocoder:
    def __init__(
        self,
        session: Any,
        sample_rate: int,
        n_mels: int = c.N_MELS,
        max_pad_ratio: float = 1e9,
        shared: SharedCores | None = None,
    ) -> None:
        self.sample_rate = sample_rate
        self.n_mels = n_mels
        self.model = self._ragged(session, max_pad_ratio)
        self.narrow = (
            (self._ragged(shared.narrow_session, max_pad_ratio), shared.peers) if shared else None
        )
        # How many runs took each session (the unit tests check the choice with them).
        self.narrow_runs = 0
        self.wide_runs = 0

    @staticmethod
    def _ragged(session: Any, max_pad_ratio: float) -> RaggedOnnx:
        return RaggedOnnx(
            session,
            c.VOC_IN_MEL,
            c.VOC_IN_MEL_LENGTHS,
            c.VOC_OUT_AUDIO,
            c.VOC_OUT_AUDIO_LENGTHS,
            pad_value=0.0,
            max_pad_ratio=max_pad_ratio,
        )

    def run_batch(self, mels: Sequence[np.ndarray]) -> list[ItemResult]:
        items: list[Item] = [(np.asarray(m, np.float32), {}) for m in mels]
        if self.narrow is None:
            return self.model.run_batch(items)
        narrow, peers = self.narrow
        with peers.running() as others_running:
            if others_running:
                self.narrow_runs += 1
                return narrow.run_batch(items)
            self.wide_runs += 1
            return self.model.run_batch(items)
