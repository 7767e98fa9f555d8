"""Ragged batching for the Python-backend ONNX steps: pad many requests into one tensor,
run the model once, cut the padded outputs back to each request's true length."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pad_sequences(
    items: Sequence[np.ndarray], pad_value: float | int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Stack arrays that differ only in their first axis into [B, T_max, ...] + lengths [B].

    All items must share dtype and trailing shape; the padding uses `pad_value`.
    """
    if not items:
        raise ValueError("cannot pad an empty batch")
    first = items[0]
    for item in items[1:]:
        if item.shape[1:] != first.shape[1:] or item.dtype != first.dtype:
            raise ValueError(
                f"items differ beyond the first axis: {item.shape}/{item.dtype} "
                f"vs {first.shape}/{first.dtype}"
            )
    lengths = np.array([item.shape[0] for item in items], dtype=np.int64)
    padded = np.full(
        (len(items), int(lengths.max()), *first.shape[1:]), pad_value, dtype=first.dtype
    )
    for row, item in enumerate(items):
        padded[row, : item.shape[0]] = item
    return padded, lengths


def split_padded(padded: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """Inverse of `pad_sequences`: row i cut to lengths[i] along axis 1 of `padded`."""
    if padded.shape[0] != len(lengths):
        raise ValueError(f"batch of {padded.shape[0]} rows but {len(lengths)} lengths")
    if len(lengths) and (lengths.min() < 0 or lengths.max() > padded.shape[1]):
        raise ValueError(f"lengths {lengths.tolist()} outside 0..{padded.shape[1]}")
    return [padded[row, : int(n)] for row, n in enumerate(lengths)]
