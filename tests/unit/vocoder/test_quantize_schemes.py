"""The int8 schemes on a small conv model with the vocoder's interface: the AVX2 scheme's
stored weights are 7-bit, so no pair of u8 x s8 products can saturate an int16 (AVX2's
vpmaddubsw); the full-range scheme's can. Real quantization runs (onnxruntime)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mandarin_tts import contract as c
from mandarin_tts.paths import VOCODER_INT8_AVX2_ONNX, VOCODER_INT8_ONNX
from mandarin_tts.vocoder.quantize import (
    AVX2_SCHEME,
    BUILT_FILES,
    DEFAULT_SCHEME,
    INT16_MAX,
    SCHEMES,
    U8_MAX,
    conv_weight_ranges,
    quantize_vocoder,
    saturation_free,
)

CHANNELS = 16


def conv_vocoder(path: Path) -> Path:
    """mel [B, T, 80] -> Conv1d (80 -> 16) -> ConvTranspose1d (16 -> 16, x2) -> audio, named
    like the generator's inner layers (so both are quantized)."""
    rng = np.random.default_rng(7)
    conv_w = rng.normal(0, 0.1, (CHANNELS, c.N_MELS, 3)).astype(np.float32)
    conv_w[0, 0, 0] = 2.0  # one large weight per layer: the range is set by outliers
    up_w = rng.normal(0, 0.1, (CHANNELS, CHANNELS, 4)).astype(np.float32)
    up_w[3, 1, 2] = -1.5
    nodes = [
        helper.make_node("Transpose", [c.VOC_IN_MEL], ["x"], perm=[0, 2, 1]),
        helper.make_node(
            "Conv", ["x", "conv_w"], ["h"], name="/generator/resblocks.0/conv", pads=[1, 1]
        ),
        helper.make_node("LeakyRelu", ["h"], ["a"], alpha=0.1),
        helper.make_node(
            "ConvTranspose",
            ["a", "up_w"],
            ["u"],
            name="/generator/ups.0/up",
            strides=[2],
            pads=[1, 1],
        ),
        helper.make_node("ReduceMean", ["u"], ["m"], axes=[1], keepdims=0),
        helper.make_node("Reshape", ["m", "flat"], [c.VOC_OUT_AUDIO]),
        helper.make_node("Mul", [c.VOC_IN_MEL_LENGTHS, "two"], [c.VOC_OUT_AUDIO_LENGTHS]),
    ]
    inits = [
        numpy_helper.from_array(conv_w, "conv_w"),
        numpy_helper.from_array(up_w, "up_w"),
        numpy_helper.from_array(np.array([0, -1], np.int64), "flat"),
        numpy_helper.from_array(np.array(2, np.int64), "two"),
    ]
    graph = helper.make_graph(
        nodes,
        "conv_vocoder",
        [
            helper.make_tensor_value_info(c.VOC_IN_MEL, TensorProto.FLOAT, ["B", "T", c.N_MELS]),
            helper.make_tensor_value_info(c.VOC_IN_MEL_LENGTHS, TensorProto.INT64, ["B"]),
        ],
        [
            helper.make_tensor_value_info(c.VOC_OUT_AUDIO, TensorProto.FLOAT, ["B", "S"]),
            helper.make_tensor_value_info(c.VOC_OUT_AUDIO_LENGTHS, TensorProto.INT64, ["B"]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def float_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return conv_vocoder(tmp_path_factory.mktemp("quant") / "float.onnx")


@pytest.fixture(scope="module")
def mels() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.normal(-4, 2, (n, c.N_MELS)).astype(np.float32) for n in (20, 33)]


def quantized(float_model: Path, mels: list[np.ndarray], name: str) -> onnx.ModelProto:
    out = float_model.parent / f"{name}.onnx"
    quantize_vocoder(float_model, out, mels, SCHEMES[name])
    return onnx.load(str(out))


def test_avx2_scheme_weights_are_7_bit_and_cannot_saturate(float_model, mels) -> None:
    model = quantized(float_model, mels, AVX2_SCHEME.name)
    ranges = conv_weight_ranges(model)
    assert set(ranges) == {"/generator/resblocks.0/conv", "/generator/ups.0/up"}
    for low, high in ranges.values():
        assert low >= -64 and high <= 64
        assert 2 * U8_MAX * max(-low, high) <= INT16_MAX
    assert saturation_free(model)


def test_full_range_weights_can_saturate(float_model, mels) -> None:
    model = quantized(float_model, mels, DEFAULT_SCHEME.name)
    ranges = conv_weight_ranges(model)
    assert max(max(-low, high) for low, high in ranges.values()) > 64
    assert not saturation_free(model)


def test_a_model_without_quantized_convs_is_not_called_saturation_free(float_model) -> None:
    assert conv_weight_ranges(onnx.load(str(float_model))) == {}
    assert not saturation_free(onnx.load(str(float_model)))


def test_the_build_writes_both_served_files_with_their_schemes() -> None:
    assert BUILT_FILES == {VOCODER_INT8_ONNX: DEFAULT_SCHEME, VOCODER_INT8_AVX2_ONNX: AVX2_SCHEME}
    assert AVX2_SCHEME.reduce_range and AVX2_SCHEME.signed_weights
    assert not DEFAULT_SCHEME.reduce_range
