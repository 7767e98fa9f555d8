"""One way to write an ONNX model, shared by every exporter (FastSpeech2 acoustic, bundled
vocoder, KAN-TTS Sambert and HiFi-GAN): trace with torch's TorchScript-based exporter
(`dynamo=False`: it keeps data-dependent sizes such as T' dynamic), add metadata, validate
with onnx.checker, and move the file into place only once it is checked, so that readers never
see a half-written or invalid model."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import onnx
import torch
from torch import Tensor, nn

# Noise from the TorchScript-based exporter itself (its deprecation, constant folding).
EXPORTER_WARNINGS = (
    ".*legacy TorchScript-based ONNX export",
    "The feature will be removed",
    "Constant folding - Only steps=1",
)


class GraphIO(NamedTuple):
    """A graph's interface: input and output names in order, and their dynamic axes ({name:
    {axis: label}}; it may name more tensors than this graph has, only its own are used)."""

    inputs: Sequence[str]
    outputs: Sequence[str]
    axes: Mapping[str, dict[int, str]]


def export_checked_onnx(
    module: nn.Module,
    args: tuple[Tensor, ...],
    path: Path,
    io: GraphIO,
    opset: int,
    *,
    metadata: Mapping[str, str] | None = None,
    rewrite: Callable[[onnx.ModelProto], object] | None = None,
    ignore_warnings: Sequence[str] = (),
) -> Path:
    """Trace `module(*args)` to `path` (atomically) and return it.

    `metadata` becomes the model's metadata_props; `rewrite` edits the loaded model before
    the check (e.g. int8 weight storage); `ignore_warnings` are regexes of tracer warnings
    known to be harmless."""
    names = set(io.inputs) | set(io.outputs)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staging = Path(tmp) / path.name
        with torch.no_grad(), warnings.catch_warnings():
            for message in ignore_warnings:
                warnings.filterwarnings("ignore", message=message)
            torch.onnx.export(
                module,
                args,
                str(staging),
                input_names=list(io.inputs),
                output_names=list(io.outputs),
                dynamic_axes={k: v for k, v in io.axes.items() if k in names},
                opset_version=opset,
                dynamo=False,
            )
        model = onnx.load(str(staging))
        if metadata:
            onnx.helper.set_model_props(model, dict(metadata))
        if rewrite is not None:
            rewrite(model)
        onnx.checker.check_model(model, full_check=True)
        final = Path(tmp) / "final.onnx"
        onnx.save(model, str(final))
        final.replace(path)
    return path
