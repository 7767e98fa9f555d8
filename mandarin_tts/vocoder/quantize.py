"""Int8 static quantization of the vocoder ONNX (onnxruntime.quantization).

The source is the float vocoder exported *without padding masks* (`pad_masks=False`): the
masks' per-conv multiplies break the int8 chains and cost about a fifth of the int8
model's time. Such a model is exact for a lone item or equal-length items, so its ONNX
metadata says `pad_safe=false` and serving never pads it (`serving.steps`).

The HiFi-GAN convolutions dominate the CPU cost, so only Conv / ConvTranspose are
quantized; the mel bridge (where the quality is won) and, per variant, the first and last
generator convs stay float. Activation ranges come from real acoustic mels of the
committed calibration sentences (`calibration_text.py`, disjoint from the evaluation
texts), so the result is deterministic for a given float model.

`python -m mandarin_tts.vocoder.quantize --variant NAME --out FILE` writes one variant;
the build writes `DEFAULT_VARIANT` to `paths.VOCODER_INT8_ONNX`.
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

from mandarin_tts.paths import ACOUSTIC_ONNX, VOCODER_INT8_ONNX
from mandarin_tts.vocoder.calibration_data import MelCalibrationReader, acoustic_mels

FORMATS = ("qdq", "qoperator")
CALIBRATIONS = ("minmax", "entropy", "percentile")

# Node-name prefixes of the exported graph (torch.onnx names nodes after module paths).
BRIDGE_NODES = "/bridge/"
GENERATOR_ENDS = ("/generator/conv_pre/", "/generator/conv_post/")
# The last upsampling stage (16 kHz, 32 channels): about a tenth of the conv work, and
# where int8 noise lands directly in the waveform.
LAST_STAGE = (
    "/generator/ups.3/",
    "/generator/resblocks.9/",
    "/generator/resblocks.10/",
    "/generator/resblocks.11/",
    "/generator/conv_post/",
)


@dataclass(frozen=True)
class Int8Variant:
    """One way to quantize the vocoder; `name` is what benchmarks and the CLI call it."""

    name: str
    quant_format: str = "qdq"
    per_channel: bool = True
    op_types: tuple[str, ...] = ("Conv", "ConvTranspose")
    float_prefixes: tuple[str, ...] = (BRIDGE_NODES,)  # nodes whose name starts so stay float
    calibration: str = "minmax"
    unsigned_activations: bool = False  # uint8 activations (u8s8 kernels) instead of int8
    polyphase: bool = False  # upsampling as plain convs (int8) instead of ConvTranspose (float)

    def __post_init__(self) -> None:
        if self.quant_format not in FORMATS:
            raise ValueError(f"quant_format must be one of {FORMATS}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}")


_KEEP_ENDS = (BRIDGE_NODES, *GENERATOR_ENDS)
# The variants measured in docs/vocoder_speed.md (each name: format, pc = per-channel
# weights, u8 = uint8 activations, which convs stay float, calibration if not MinMax).
VARIANTS: dict[str, Int8Variant] = {
    v.name: v
    for v in (
        Int8Variant("qdq-pc"),
        Int8Variant("qop-pc", quant_format="qoperator", unsigned_activations=True),
        Int8Variant("qdq-pc-u8", unsigned_activations=True),
        Int8Variant("qdq-pc-u8-ends-float", unsigned_activations=True, float_prefixes=_KEEP_ENDS),
        Int8Variant(
            "qop-pc-ends-float",
            quant_format="qoperator",
            unsigned_activations=True,
            float_prefixes=_KEEP_ENDS,
        ),
        Int8Variant(
            "qdq-pc-u8-last-float",
            unsigned_activations=True,
            float_prefixes=(BRIDGE_NODES, GENERATOR_ENDS[0], *LAST_STAGE),
        ),
        Int8Variant("qdq-pc-u8-percentile", unsigned_activations=True, calibration="percentile"),
        Int8Variant("qdq-pc-u8-entropy", unsigned_activations=True, calibration="entropy"),
        # Measured in docs/vocoder_speed.md ("Session 3"): faster, and within
        # the ASR noise of the rule, but not adopted.
        Int8Variant(
            "qdq-pc-u8-ends-float-polyphase",
            unsigned_activations=True,
            float_prefixes=_KEEP_ENDS,
            polyphase=True,
        ),
        Int8Variant(
            "qdq-pc-u8-ends-float-lrelu-pct",
            unsigned_activations=True,
            float_prefixes=_KEEP_ENDS,
            op_types=("Conv", "ConvTranspose", "LeakyRelu"),
            calibration="percentile",
        ),
        Int8Variant(
            "qdq-pc-u8-ends-float-lrelu-add-pct",
            unsigned_activations=True,
            float_prefixes=_KEEP_ENDS,
            op_types=("Conv", "ConvTranspose", "LeakyRelu", "Add"),
            calibration="percentile",
        ),
    )
}
# QDQ, per-channel int8 weights, uint8 activations, MinMax, bridge + first/last conv float:
# the variant that met the CPU-tier rule (ASR pinyin error within +0.5 pt of float,
# measured in docs/vocoder_speed.md).
DEFAULT_VARIANT = "qdq-pc-u8-ends-float"


def float_nodes(model: onnx.ModelProto, variant: Int8Variant) -> list[str]:
    """Names of the nodes of the quantized op types that the variant keeps in float."""
    return [
        node.name
        for node in model.graph.node
        if node.op_type in variant.op_types and node.name.startswith(variant.float_prefixes)
    ]


def quantize_vocoder(
    float_onnx: Path,
    out: Path,
    mels: Sequence[np.ndarray],
    variant: Int8Variant,
    calibration_cache: Path | None = None,
) -> None:
    """Write the int8 vocoder for `variant` to `out` (atomically), calibrated on `mels`.

    `calibration_cache` (a JSON file) lets several variants that share the calibration
    method and op types reuse one calibration pass.
    """
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    model = onnx.load(str(float_onnx))
    method = {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }[variant.calibration]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        staged = Path(tmp) / out.name
        quantize_static(
            model_input=float_onnx,
            model_output=staged,
            calibration_data_reader=MelCalibrationReader(mels),
            quant_format=QuantFormat.QDQ
            if variant.quant_format == "qdq"
            else QuantFormat.QOperator,
            op_types_to_quantize=list(variant.op_types),
            per_channel=variant.per_channel,
            activation_type=QuantType.QUInt8 if variant.unsigned_activations else QuantType.QInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=float_nodes(model, variant),
            calibrate_method=method,
            calibration_cache_path=calibration_cache,
            # One sentence per calibration pass: the histogram methods would otherwise
            # hold every conv activation of every sentence in memory at once.
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


def quantize_unmasked(
    out: Path,
    mels: Sequence[np.ndarray],
    variant: Int8Variant,
    calibration_cache: Path | None = None,
) -> None:
    """Export the float vocoder without padding masks next to `out`, then quantize it."""
    from mandarin_tts.vocoder.export import build_vocoder_onnx  # torch: only when building

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        source = Path(tmp) / "vocoder_unmasked.onnx"
        build_vocoder_onnx(source, pad_masks=False, polyphase=variant.polyphase)
        quantize_vocoder(source, out, mels, variant, calibration_cache)


def build_vocoder_int8_onnx(
    out: Path = VOCODER_INT8_ONNX,
    acoustic_onnx: Path = ACOUSTIC_ONNX,
    variant: str = DEFAULT_VARIANT,
) -> None:
    """The build step: calibrate on the committed sentences and write the int8 vocoder."""
    quantize_unmasked(out, acoustic_mels(acoustic_onnx), VARIANTS[variant])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default=DEFAULT_VARIANT)
    parser.add_argument("--out", type=Path, default=VOCODER_INT8_ONNX)
    parser.add_argument("--calibration-cache", type=Path)
    args = parser.parse_args(argv)
    mels = acoustic_mels(ACOUSTIC_ONNX)
    quantize_unmasked(args.out, mels, VARIANTS[args.variant], args.calibration_cache)
    print(f"{args.variant} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
