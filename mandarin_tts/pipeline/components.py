"""The three stages of a voice as interfaces, so every model family composes the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

# A batched stage returns, per item, its output or the exception that item alone raised:
# one bad item never fails the rest of its batch.
ItemResult = np.ndarray | Exception
# An acoustic item with its durations: (mel [frames, n_mels], frames per input unit [T]).
AlignedResult = tuple[np.ndarray, np.ndarray] | Exception


class SynthesisFailed(RuntimeError):
    """A model run failed for an item (internal: not the client's fault)."""


class InvalidItem(ValueError):
    """An item the model cannot take (ids out of its tables, bad shapes): the caller's fault."""


@dataclass(frozen=True)
class AcousticRequest:
    # The text frontend's per-item arrays (no batch axis), named as the acoustic model
    # takes them (mandarin_tts.voices.text_frontends.EncodedText.tensors).
    tensors: dict[str, np.ndarray]
    speed: float = 1.0
    pitch: float = 1.0
    energy: float = 1.0
    extra: dict[str, float] = field(default_factory=dict)


class AcousticModel(Protocol):
    """Encoded text -> the mel the voice's vocoder takes, [frames, n_mels] float32."""

    n_mels: int

    def run_batch(self, requests: Sequence[AcousticRequest]) -> list[ItemResult]: ...


@runtime_checkable
class AlignedAcousticModel(AcousticModel, Protocol):
    """An acoustic model that also reports how many mel frames each input unit lasts."""

    @property
    def reports_durations(self) -> bool: ...

    def run_batch_aligned(self, requests: Sequence[AcousticRequest]) -> list[AlignedResult]: ...


class Vocoder(Protocol):
    """Mel [frames, n_mels] -> float32 audio in [-1, 1] at `sample_rate`."""

    sample_rate: int
    n_mels: int

    def run_batch(self, mels: Sequence[np.ndarray]) -> list[ItemResult]: ...
