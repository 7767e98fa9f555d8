"""PolyphaseUpsample reproduces nn.ConvTranspose1d, in torch and as dynamic-length ONNX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from mandarin_tts.vocoder.export import OPSET
from mandarin_tts.vocoder.hifigan import HiFiGANConfig, HiFiGANGenerator
from mandarin_tts.vocoder.polyphase import PolyphaseGeometry, PolyphaseUpsample, phase_weight

LENGTHS = (1, 2, 3, 7, 40)


def _hifigan_ups() -> list[nn.ConvTranspose1d]:
    """The generator's own upsampling layers (its padding rules), randomly initialised."""
    torch.manual_seed(0)
    ups = list(HiFiGANGenerator(HiFiGANConfig()).ups)
    assert len(ups) == len(HiFiGANConfig().upsample_rates)
    return ups  # type: ignore[return-value]


def _assert_same(layer: nn.ConvTranspose1d, lengths: tuple[int, ...] = LENGTHS) -> None:
    poly = PolyphaseUpsample.from_conv_transpose(layer)
    generator = torch.Generator().manual_seed(1)
    for length in lengths:
        x = torch.randn(2, layer.in_channels, length, generator=generator)
        with torch.no_grad():
            expected, got = layer(x), poly(x)
        assert got.shape == expected.shape, (length, got.shape, expected.shape)
        assert got.shape[-1] == poly.geometry.output_length(length)
        scale = float(expected.abs().max())
        assert scale > 0
        assert float((got - expected).abs().max()) < 1e-5 * scale, length


@pytest.mark.parametrize("stage", range(len(HiFiGANConfig().upsample_rates)))
def test_matches_hifigan_upsampling_layers(stage: int) -> None:
    layer = _hifigan_ups()[stage]
    assert layer.stride[0] == HiFiGANConfig().upsample_rates[stage]
    _assert_same(layer)


@pytest.mark.parametrize(
    ("stride", "kernel", "padding", "output_padding"),
    [
        (3, 7, 2, 1),  # kernel not a multiple of the stride
        (4, 4, 0, 0),  # no padding
        (2, 4, 0, 1),  # output padding beyond the full output: bias only there
        (5, 3, 1, 2),  # kernel shorter than the stride: phases with no tap
        (2, 9, 6, 1),  # padding larger than the stride: whole steps skipped
        (1, 3, 1, 0),  # stride 1: an ordinary (flipped) conv
    ],
)
def test_matches_odd_geometries(
    stride: int, kernel: int, padding: int, output_padding: int
) -> None:
    torch.manual_seed(2)
    layer = nn.ConvTranspose1d(
        5, 3, kernel, stride=stride, padding=padding, output_padding=output_padding
    )
    geometry = PolyphaseGeometry(stride, kernel, padding, output_padding)
    _assert_same(layer, lengths=tuple(n for n in LENGTHS if geometry.output_length(n) >= 1))


@settings(max_examples=40, deadline=None)
@given(
    stride=st.integers(1, 6),
    kernel=st.integers(1, 12),
    padding=st.integers(0, 6),
    output_padding=st.integers(0, 5),
    length=st.integers(1, 9),
    bias=st.booleans(),
)
def test_matches_any_geometry(
    stride: int, kernel: int, padding: int, output_padding: int, length: int, bias: bool
) -> None:
    output_padding = output_padding % stride  # PyTorch requires output_padding < stride
    geometry = PolyphaseGeometry(stride, kernel, padding, output_padding)
    if geometry.output_length(length) < 1:
        return
    layer = nn.ConvTranspose1d(
        2, 3, kernel, stride, padding=padding, output_padding=output_padding, bias=bias
    ).double()
    poly = PolyphaseUpsample.from_conv_transpose(layer)
    x = torch.randn(1, 2, length, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(poly(x), layer(x), atol=1e-12, rtol=0)


def test_phase_weight_places_each_tap_once() -> None:
    weight = torch.arange(1.0, 1 + 2 * 3 * 7).reshape(2, 3, 7)
    phased = phase_weight(weight, stride=3)
    assert phased.shape == (3 * 3, 2, 3)
    # Every tap appears exactly once; the two padded taps (K=7 -> 9) are zero.
    values = sorted(phased.flatten().tolist())
    assert values[: 2 * 3 * 2] == [0.0] * 12
    assert values[12:] == sorted(weight.flatten().tolist())


def test_rejects_unsupported_layers() -> None:
    with pytest.raises(ValueError, match="groups"):
        PolyphaseUpsample.from_conv_transpose(nn.ConvTranspose1d(4, 4, 4, 2, groups=2))
    with pytest.raises(ValueError, match="dilation"):
        PolyphaseUpsample.from_conv_transpose(nn.ConvTranspose1d(4, 4, 4, 2, dilation=2))


def test_onnx_export_keeps_the_time_axis_dynamic(tmp_path: Path) -> None:
    import onnx
    import onnxruntime as ort

    layers = _hifigan_ups()
    torch.manual_seed(3)
    odd = nn.ConvTranspose1d(6, 4, 7, stride=3, padding=1, output_padding=2)
    for index, layer in enumerate([layers[1], layers[3], odd]):
        poly = PolyphaseUpsample.from_conv_transpose(layer).eval()
        path = tmp_path / f"poly{index}.onnx"
        with torch.no_grad():
            torch.onnx.export(
                poly,
                (torch.randn(2, layer.in_channels, 11),),
                str(path),
                input_names=["x"],
                output_names=["y"],
                dynamic_axes={"x": {0: "batch", 2: "time"}, "y": {0: "batch", 2: "samples"}},
                opset_version=OPSET,
                dynamo=False,
            )
        ops = [node.op_type for node in onnx.load(str(path)).graph.node]
        assert "ConvTranspose" not in ops and ops.count("Conv") == 1
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(index)
        for batch, length in [(1, 1), (1, 2), (3, 5), (1, 64)]:
            x = rng.standard_normal((batch, layer.in_channels, length)).astype(np.float32)
            (got,) = session.run(None, {"x": x})
            with torch.no_grad():
                expected = layer(torch.from_numpy(x)).numpy()
            assert got.shape == expected.shape, (index, length)
            scale = float(np.abs(expected).max())
            assert float(np.abs(got - expected).max()) < 1e-5 * scale, (index, length)
