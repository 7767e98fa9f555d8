"""Build and check the acoustic ONNX's input feed from a list of symbol-id sequences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.acoustic.config import FastSpeech2Config

_VOCAB_SIZE = FastSpeech2Config().vocab_size


def _scales(
    value: float | Sequence[float], batch: int, name: str, valid: tuple[float, float]
) -> np.ndarray:
    scales = np.broadcast_to(np.asarray(value, dtype=np.float32), (batch,)).copy()
    low, high = valid
    if not np.all(np.isfinite(scales)) or np.any((scales < low) | (scales > high)):
        raise ValueError(f"{name} must be within [{low}, {high}], got {scales.tolist()}")
    return scales


def acoustic_feed(
    sequences: Sequence[Sequence[int] | np.ndarray],
    speed: float | Sequence[float] = 1.0,
    pitch: float | Sequence[float] = 1.0,
    energy: float | Sequence[float] = 1.0,
) -> dict[str, np.ndarray]:
    """Validate and pad symbol-id sequences into the acoustic ONNX's named inputs.

    Each sequence must be non-empty, at most AC_MAX_SYMBOLS long and hold ids of the
    symbol table; scales are one value for all items or one per item, within the
    contract's ranges. Raises ValueError otherwise.
    """
    if not sequences:
        raise ValueError("need at least one sequence")
    arrays = [np.asarray(seq) for seq in sequences]
    for index, ids in enumerate(arrays):
        if ids.ndim != 1 or ids.size == 0:
            raise ValueError(f"sequence {index} must be a non-empty 1-D list of ids")
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"sequence {index} must hold integers, got {ids.dtype}")
        if ids.size > c.AC_MAX_SYMBOLS:
            raise ValueError(f"sequence {index} has {ids.size} > {c.AC_MAX_SYMBOLS} symbols")
        if ids.min() < 0 or ids.max() >= _VOCAB_SIZE:
            raise ValueError(f"sequence {index} has ids outside 0..{_VOCAB_SIZE - 1}")
    batch = len(arrays)
    lengths = np.array([ids.size for ids in arrays], dtype=np.int64)
    padded = np.full((batch, int(lengths.max())), c.PAD_ID, dtype=np.int64)
    for row, ids in enumerate(arrays):
        padded[row, : ids.size] = ids
    return {
        c.AC_IN_IDS: padded,
        c.AC_IN_LENGTHS: lengths,
        c.AC_IN_SPEED: _scales(speed, batch, c.AC_IN_SPEED, c.SPEED_RANGE),
        c.AC_IN_PITCH: _scales(pitch, batch, c.AC_IN_PITCH, c.PITCH_RANGE),
        c.AC_IN_ENERGY: _scales(energy, batch, c.AC_IN_ENERGY, c.ENERGY_RANGE),
    }
