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

Two schemes are built (QDQ, per-channel weights, uint8 activations, MinMax; they differ in
the weights' range):

- `u8s8` -> `paths.VOCODER_INT8_ONNX`: full-range int8 weights, served on CPUs with VNNI.
- `u8s8-rr` -> `paths.VOCODER_INT8_AVX2_ONNX`: 7-bit weights (`reduce_range`, [-64, 63]).
  On x86 without VNNI onnxruntime's u8s8 kernels (vpmaddubsw) add two u8 x s8 products in
  16 bits with saturation; 2 x 255 x 64 = 32640 <= 32767, so with 7-bit weights no pair can
  saturate (`saturation_free` checks a file). Served on AVX2 CPUs without VNNI.

The other variants measured (`SCHEMES`, `python -m benchmarks.micro.int8_variants`) and the
ten of the first sessions are in docs/vocoder_speed.md, the latter's code at commit
f666181 (`git show f666181:mandarin_tts/vocoder/quantize.py`).

`python -m mandarin_tts.vocoder.quantize --scheme NAME --out FILE`; the build writes both
served files.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from mandarin_tts.paths import ACOUSTIC_ONNX, VOCODER_INT8_AVX2_ONNX, VOCODER_INT8_ONNX
from mandarin_tts.vocoder.calibration_data import MelCalibrationReader, acoustic_mels

# Node-name prefixes of the exported graph (torch.onnx names nodes after module paths).
BRIDGE_NODES = "/bridge/"
GENERATOR_ENDS = ("/generator/conv_pre/", "/generator/conv_post/")
# Nodes whose name starts so stay float: quantizing the two end convs (~0.2 % of the work)
# too raised the spectral distance to float from 0.155 to 0.258 (docs/vocoder_speed.md).
FLOAT_PREFIXES = (BRIDGE_NODES, *GENERATOR_ENDS)
QUANTIZED_OPS = ("Conv", "ConvTranspose")
# vpmaddubsw (u8s8 on AVX2 without VNNI) sums two u8 x s8 products in a saturating int16.
INT16_MAX = 32767
U8_MAX = 255


@dataclass(frozen=True)
class Int8Scheme:
    """One onnxruntime static-quantization setting (activations are always uint8)."""

    name: str
    signed_weights: bool = True  # s8 weights (u8s8 kernels); False: u8 weights (u8u8)
    reduce_range: bool = False  # 7-bit weights
    per_channel: bool = True


DEFAULT_SCHEME = Int8Scheme("u8s8")
AVX2_SCHEME = Int8Scheme("u8s8-rr", reduce_range=True)
SCHEMES: dict[str, Int8Scheme] = {
    scheme.name: scheme
    for scheme in (
        DEFAULT_SCHEME,
        AVX2_SCHEME,
        Int8Scheme("u8u8", signed_weights=False),
        Int8Scheme("u8s8-rr-pt", reduce_range=True, per_channel=False),
    )
}
# The files the build writes, and the scheme of each.
BUILT_FILES: dict[Path, Int8Scheme] = {
    VOCODER_INT8_ONNX: DEFAULT_SCHEME,
    VOCODER_INT8_AVX2_ONNX: AVX2_SCHEME,
}


def float_nodes(model: onnx.ModelProto) -> list[str]:
    """Names of the Conv / ConvTranspose nodes that stay float (bridge, first and last conv)."""
    return [
        node.name
        for node in model.graph.node
        if node.op_type in QUANTIZED_OPS and node.name.startswith(FLOAT_PREFIXES)
    ]


def quantize_vocoder(
    float_onnx: Path, out: Path, mels: Sequence[np.ndarray], scheme: Int8Scheme = DEFAULT_SCHEME
) -> None:
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
            per_channel=scheme.per_channel,
            reduce_range=scheme.reduce_range,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8 if scheme.signed_weights else QuantType.QUInt8,
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


def conv_weight_ranges(model: onnx.ModelProto) -> dict[str, tuple[int, int]]:
    """(min, max) of the stored integer weights of each quantized Conv / ConvTranspose,
    minus their zero point (what the kernel multiplies), by node name."""
    inits = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    dequantized_by = {
        node.output[0]: node for node in model.graph.node if node.op_type == "DequantizeLinear"
    }
    ranges: dict[str, tuple[int, int]] = {}
    for node in model.graph.node:
        if node.op_type not in QUANTIZED_OPS or len(node.input) < 2:
            continue
        dq = dequantized_by.get(node.input[1])
        if dq is None or dq.input[0] not in inits:
            continue
        weights = inits[dq.input[0]].astype(np.int32)
        zero = inits[dq.input[2]].astype(np.int32) if len(dq.input) > 2 else np.int32(0)
        if np.ndim(zero):  # per-channel zero points along the node's `axis` (default 1)
            axis = next((a.i for a in dq.attribute if a.name == "axis"), 1) % weights.ndim
            shape = [1] * weights.ndim
            shape[axis] = -1
            zero = zero.reshape(shape)
        centred = weights - zero
        ranges[node.name] = (int(centred.min()), int(centred.max()))
    return ranges


def saturation_free(model: onnx.ModelProto) -> bool:
    """True when no pair of uint8 x weight products of any quantized conv can exceed int16:
    2 x 255 x max|w| <= 32767 (so |w| <= 64), the bound of AVX2's vpmaddubsw."""
    ranges = conv_weight_ranges(model)
    bound = max((max(-low, high) for low, high in ranges.values()), default=0)
    return bool(ranges) and 2 * U8_MAX * bound <= INT16_MAX


def build_vocoder_int8_onnx(
    outputs: dict[Path, Int8Scheme] | None = None, acoustic_onnx: Path = ACOUSTIC_ONNX
) -> None:
    """The build step: export the float vocoder without padding masks, calibrate it on the
    committed sentences and write one int8 vocoder per (file, scheme) (default: the served
    files, `BUILT_FILES`)."""
    from mandarin_tts.vocoder.export import build_vocoder_onnx  # torch: only when building

    outputs = BUILT_FILES if outputs is None else outputs
    mels = acoustic_mels(acoustic_onnx)
    first = next(iter(outputs))
    first.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=first.parent) as tmp:
        source = Path(tmp) / "vocoder_unmasked.onnx"
        build_vocoder_onnx(source, pad_masks=False)
        for out, scheme in outputs.items():
            quantize_vocoder(source, out, mels, scheme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scheme", choices=sorted(SCHEMES), default=DEFAULT_SCHEME.name)
    parser.add_argument("--out", type=Path, default=VOCODER_INT8_ONNX)
    args = parser.parse_args(argv)
    build_vocoder_int8_onnx({args.out: SCHEMES[args.scheme]})
    print(f"int8 vocoder ({args.scheme}) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
