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


def plan_runs(lengths: Sequence[int], max_pad_ratio: float) -> list[list[int]]:
    """Group request indices into model runs so padding stays bounded.

    Requests are sorted by length and cut into consecutive groups whose padded size
    (len(group) * longest) is at most `max_pad_ratio` times their real size. On CPUs the
    padded positions cost as much as real ones, so a 1-second prompt batched with a
    10-second one would cost ten times its work; on GPUs a large ratio keeps one run.
    """
    if max_pad_ratio < 1.0:
        raise ValueError("max_pad_ratio must be >= 1")
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    runs: list[list[int]] = []
    group: list[int] = []
    real = 0
    for i in order:
        # Sorted ascending: adding i makes lengths[i] the group's longest.
        candidate_real = real + lengths[i]
        if group and (len(group) + 1) * lengths[i] > max_pad_ratio * candidate_real:
            runs.append(group)
            group, candidate_real = [], lengths[i]
        group.append(i)
        real = candidate_real
    if group:
        runs.append(group)
    return runs
