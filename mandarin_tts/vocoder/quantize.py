"""Int8 static quantization of the vocoder ONNX (onnxruntime.quantization).

The source is the float vocoder exported *without padding masks* (`pad_masks=False`): the
masks' per-conv multiplies break the int8 chains and cost about a fifth of the int8
model's time. Such a model is exact for a lone item or equal-length items, so its ONNX
metadata says `pad_safe=false` and serving never pads it (`serving.steps`).

The HiFi-GAN convolutions dominate the CPU cost, so only Conv / ConvTranspose are
quantized; the mel bridge (where the quality is won) and the generator's first and last
convs stay float. Activation ranges come from real acoustic mels of the committed
calibration sentences (`calibration_text.py`, disjoint from the evaluation texts), so the
result is deterministic for a given float model.

This is the one scheme that met the CPU-tier rule (QDQ, per-channel int8 weights, uint8
activations, MinMax); the ten variants measured against it are in docs/vocoder_speed.md,
their code at commit f666181 (`git show f666181:mandarin_tts/vocoder/quantize.py`).

`python -m mandarin_tts.vocoder.quantize --out FILE`; the build writes
`paths.VOCODER_INT8_ONNX`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx

from mandarin_tts.paths import ACOUSTIC_ONNX, VOCODER_INT8_ONNX
from mandarin_tts.vocoder.calibration_data import MelCalibrationReader, acoustic_mels

# Node-name prefixes of the exported graph (torch.onnx names nodes after module paths).
BRIDGE_NODES = "/bridge/"
GENERATOR_ENDS = ("/generator/conv_pre/", "/generator/conv_post/")
# Nodes whose name starts so stay float: quantizing the two end convs (~0.2 % of the work)
# too raised the spectral distance to float from 0.155 to 0.258 (docs/vocoder_speed.md).
FLOAT_PREFIXES = (BRIDGE_NODES, *GENERATOR_ENDS)
QUANTIZED_OPS = ("Conv", "ConvTranspose")


def float_nodes(model: onnx.ModelProto) -> list[str]:
    """Names of the Conv / ConvTranspose nodes that stay float (bridge, first and last conv)."""
    return [
        node.name
        for node in model.graph.node
        if node.op_type in QUANTIZED_OPS and node.name.startswith(FLOAT_PREFIXES)
    ]


def quantize_vocoder(float_onnx: Path, out: Path, mels: Sequence[np.ndarray]) -> None:
    """Write the int8 vocoder to `out` (atomically), calibrated on `mels`."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    model = onnx.load(str(float_onnx))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        staged = Path(tmp) / out.name
        quantize_static(
            model_input=float_onnx,
            model_output=staged,
            calibration_data_reader=MelCalibrationReader(mels),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(QUANTIZED_OPS),
            per_channel=True,
            activation_type=QuantType.QUInt8,  # u8s8 kernels
            weight_type=QuantType.QInt8,
            nodes_to_exclude=float_nodes(model),
            calibrate_method=CalibrationMethod.MinMax,
            # One sentence per calibration pass: keeps memory bounded on long sentences.
            extra_options={"CalibStridedMinMax": 1},
        )
        quantized = onnx.load(str(staged))
        # Keep the float model's metadata (pad_safe): quantization does not change it.
        onnx.helper.set_model_props(
            quantized, {prop.key: prop.value for prop in model.metadata_props}
        )
        onnx.checker.check_model(quantized, full_check=True)
        onnx.save(quantized, str(staged))
        staged.replace(out)


def build_vocoder_int8_onnx(
    out: Path = VOCODER_INT8_ONNX, acoustic_onnx: Path = ACOUSTIC_ONNX
) -> None:
    """The build step: export the float vocoder without padding masks, calibrate it on the
    committed sentences and write the int8 vocoder."""
    from mandarin_tts.vocoder.export import build_vocoder_onnx  # torch: only when building

    mels = acoustic_mels(acoustic_onnx)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        source = Path(tmp) / "vocoder_unmasked.onnx"
        build_vocoder_onnx(source, pad_masks=False)
        quantize_vocoder(source, out, mels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=VOCODER_INT8_ONNX)
    args = parser.parse_args(argv)
    build_vocoder_int8_onnx(args.out)
    print(f"int8 vocoder -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
