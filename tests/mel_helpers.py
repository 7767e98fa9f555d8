"""Synthetic mels shared by the vocoder unit tests and the model tests (tests/integration/models)."""

from __future__ import annotations

import numpy as np


def speech_like_mel(frames: int, seed: int) -> np.ndarray:
    """Acoustic-space mel [frames, 80]: smooth over time and frequency, roughly N(0, 1)."""
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((frames + 8, 80 + 8)).astype(np.float32)
    kernel = np.ones(5, np.float32) / 5
    smooth = np.apply_along_axis(lambda v: np.convolve(v, kernel, "same"), 0, raw)
    smooth = np.apply_along_axis(lambda v: np.convolve(v, kernel, "same"), 1, smooth)
    return (smooth[4:-4, 4:-4] * 2.0).astype(np.float32)
