"""Input checking and padding for the acoustic ONNX feed."""

from __future__ import annotations

import numpy as np
import pytest

from mandarin_tts import contract as c
from mandarin_tts.acoustic.inputs import acoustic_feed


def test_pads_with_pad_id_and_broadcasts_scales() -> None:
    feed = acoustic_feed([[1, 5, 218], [1, 218]], speed=1.5, pitch=[0.8, 1.2])
    assert feed[c.AC_IN_IDS].tolist() == [[1, 5, 218], [1, 218, c.PAD_ID]]
    assert feed[c.AC_IN_IDS].dtype == np.int64
    assert feed[c.AC_IN_LENGTHS].tolist() == [3, 2]
    assert feed[c.AC_IN_SPEED].tolist() == [1.5, 1.5]
    assert feed[c.AC_IN_PITCH].dtype == np.float32
    assert feed[c.AC_IN_PITCH].tolist() == pytest.approx([0.8, 1.2])
    assert feed[c.AC_IN_ENERGY].tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("sequences", "scales"),
    [
        ([], {}),
        ([[]], {}),
        ([[1, 2], [[1, 2]]], {}),
        ([[1.0, 2.0]], {}),
        ([[1, 219]], {}),
        ([[-1, 5]], {}),
        ([[1] * (c.AC_MAX_SYMBOLS + 1)], {}),
        ([[1, 218]], {"speed": 0.0}),
        ([[1, 218]], {"pitch": float("nan")}),
        ([[1, 218]], {"energy": c.ENERGY_RANGE[1] + 0.1}),
        ([[1, 218], [1, 218]], {"speed": [1.0, 1.0, 1.0]}),
    ],
)
def test_rejects_bad_inputs(sequences: list, scales: dict) -> None:
    with pytest.raises(ValueError):
        acoustic_feed(sequences, **scales)
