"""Run an ONNX model over ragged items: pad once per run, run, cut back per item.

Items are grouped into runs whose padding is bounded (`batching.plan_runs`); a model
exported without padding masks (ONNX metadata pad_safe=false) runs only items of equal
length together. A run that fails is retried item by item, so only the item that breaks
the model gets the error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.pipeline.components import ItemResult, SynthesisFailed
from mandarin_tts.serving.batching import pad_sequences, plan_runs, split_padded

# One item: its sequence [T, ...] and its per-item scalar inputs (name -> value).
Item = tuple[np.ndarray, dict[str, float]]
Out = TypeVar("Out")


def is_pad_safe(session: Any) -> bool:
    """False for a model built without padding masks (its ONNX metadata says so)."""
    metadata = session.get_modelmeta().custom_metadata_map
    return metadata.get(c.ONNX_META_PAD_SAFE, "true") != "false"


def ragged_feeds(
    sequence_input: str, lengths_input: str, items: Sequence[Item], pad_value: float = 0.0
) -> dict[str, np.ndarray]:
    """The ONNX feeds for a run of items: padded sequences, true lengths, scalars [B]."""
    padded, lengths = pad_sequences([seq for seq, _ in items], pad_value)
    feeds: dict[str, np.ndarray] = {sequence_input: padded, lengths_input: lengths}
    for name in items[0][1]:
        feeds[name] = np.array([scalars[name] for _, scalars in items], dtype=np.float32)
    return feeds


def vocoder_feeds(mels: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """A vocoder ONNX's feeds for mels [T, n_mels] (calibration reads them too)."""
    items: list[Item] = [(np.asarray(m, np.float32), {}) for m in mels]
    return ragged_feeds(c.VOC_IN_MEL, c.VOC_IN_MEL_LENGTHS, items)


class RaggedOnnx:
    """An onnxruntime session with inputs (sequence [B, T, ...], lengths [B], scalars [B])
    and outputs (sequence [B, T', ...], lengths [B])."""

    def __init__(
        self,
        session: Any,
        sequence_input: str,
        lengths_input: str,
        sequence_output: str,
        lengths_output: str,
        pad_value: float = 0.0,
        max_pad_ratio: float = 1e9,
    ) -> None:
        self.session = session
        self.names = (sequence_input, lengths_input, sequence_output, lengths_output)
        self.pad_value = pad_value
        # See batching.plan_runs: a ratio of 1 means no padding at all.
        self.max_pad_ratio = max_pad_ratio if is_pad_safe(session) else 1.0

    def output_names(self) -> set[str]:
        return {o.name for o in self.session.get_outputs()}

    def _run_with(
        self, items: Sequence[Item], per_input: Sequence[str]
    ) -> list[tuple[np.ndarray, ...]]:
        """Per item: its sequence output, then each `per_input` output [B, T] cut to the
        item's input length (e.g. durations per symbol)."""
        seq_in, len_in, seq_out, len_out = self.names
        feeds = ragged_feeds(seq_in, len_in, items, self.pad_value)
        out, out_lengths, *extra = self.session.run([seq_out, len_out, *per_input], feeds)
        pieces = split_padded(np.asarray(out), np.asarray(out_lengths).astype(np.int64))
        in_lengths = feeds[len_in]
        return [
            (
                np.ascontiguousarray(p),
                *(np.ascontiguousarray(np.asarray(e)[i, : int(in_lengths[i])]) for e in extra),
            )
            for i, p in enumerate(pieces)
        ]

    def _run(self, items: Sequence[Item]) -> list[np.ndarray]:
        return [outputs[0] for outputs in self._run_with(items, ())]

    def run_batch(self, items: Sequence[Item]) -> list[ItemResult]:
        return run_isolated(
            items, self._run, [seq.shape[0] for seq, _ in items], self.max_pad_ratio
        )

    def run_batch_with(
        self, items: Sequence[Item], per_input: Sequence[str]
    ) -> list[tuple[np.ndarray, ...] | Exception]:
        """`run_batch` that also returns the `per_input` outputs per item."""
        return run_isolated(
            items,
            lambda run: self._run_with(run, per_input),
            [seq.shape[0] for seq, _ in items],
            self.max_pad_ratio,
        )


def run_isolated(
    items: Sequence[Any],
    run: Callable[[Sequence[Any]], list[Out]],
    lengths: Sequence[int],
    max_pad_ratio: float,
) -> list[Out | Exception]:
    """`run` over runs of items planned by length; a failed run is retried per item."""
    results: list[Out | Exception | None] = [None] * len(items)
    for group in plan_runs(list(lengths), max_pad_ratio) if items else []:
        try:
            for i, out in zip(group, run([items[i] for i in group]), strict=True):
                results[i] = out
        except Exception:  # noqa: BLE001 - find the item that broke the run
            for i in group:
                try:
                    results[i] = run([items[i]])[0]
                except Exception as exc:  # noqa: BLE001
                    results[i] = SynthesisFailed(f"{type(exc).__name__}: {exc}")
    return [r if r is not None else SynthesisFailed("no result") for r in results]
