"""The int8 vocoder from the build: valid ONNX, same interface, marked unpadded, close to float."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from mel_helpers import speech_like_mel

from mandarin_tts import contract as c
from mandarin_tts.paths import VOCODER_INT8_ONNX
from mandarin_tts.vocoder.bridge import SAMPLES_PER_ACOUSTIC_FRAME
from mandarin_tts.vocoder.calibration_data import (
    acoustic_mels,
    vocoder_feed,
)
from mandarin_tts.vocoder.mel import vocoder_mel
from mandarin_tts.vocoder.quantize import BRIDGE_NODES, GENERATOR_ENDS, float_nodes

# Not a calibration sentence: the tolerance below must hold on unseen text.
HELD_OUT_TEXT = "明天上午十点，我们在公司门口集合，请不要迟到。"
# Batch vs alone: static scales make the int8 kernels see the same values either way;
# measured bit-identical (max difference 0.0), 1e-4 leaves room for summation-order
# changes in other onnxruntime builds.
BATCH_ATOL = 1e-4
# Int8 vs float on a real mel: mean absolute difference of the vocoder's own log-mel of
# the two outputs (natural log units), floored LOG_MEL_RANGE below the loudest bin so that
# near-silent bins (where any noise moves the log a lot) do not dominate. Measured 0.135
# for the build's variant (0.22 with the first/last convs quantized too); a silent output
# scores 2.2, so 0.3 catches a broken or badly calibrated model.
LOG_MEL_RANGE = 8.0  # ~70 dB
LOG_MEL_TOLERANCE = 0.3


@pytest.fixture(scope="module")
def int8_onnx(built_models: tuple[Path, Path]) -> Path:
    """`python -m mandarin_tts.build` writes the int8 vocoder beside the float models."""
    assert VOCODER_INT8_ONNX.exists()
    return VOCODER_INT8_ONNX


@pytest.fixture(scope="module")
def int8_session(int8_onnx: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(int8_onnx), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def held_out_mel(built_models: tuple[Path, Path]) -> np.ndarray:
    return acoustic_mels(built_models[0], [HELD_OUT_TEXT])[0]


def _run(session, mel: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    audio, audio_lengths = session.run(
        [c.VOC_OUT_AUDIO, c.VOC_OUT_AUDIO_LENGTHS],
        {c.VOC_IN_MEL: mel, c.VOC_IN_MEL_LENGTHS: lengths.astype(np.int64)},
    )
    return audio, audio_lengths


def test_checker_passes_and_convs_are_int8(int8_onnx: Path, vocoder_onnx: Path) -> None:
    model = onnx.load(str(int8_onnx))
    onnx.checker.check_model(model, full_check=True)
    ops = {node.op_type for node in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops or "QLinearConv" in ops
    assert int8_onnx.stat().st_size < 0.5 * vocoder_onnx.stat().st_size  # int8 weights


def test_same_interface_as_float(int8_onnx: Path, vocoder_onnx: Path) -> None:
    def interface(path: Path) -> dict[str, tuple[int, list[str | int]]]:
        graph = onnx.load(str(path)).graph
        return {
            v.name: (
                v.type.tensor_type.elem_type,
                [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim],
            )
            for v in (*graph.input, *graph.output)
        }

    assert interface(int8_onnx) == interface(vocoder_onnx)
    assert set(interface(int8_onnx)) == {
        c.VOC_IN_MEL,
        c.VOC_IN_MEL_LENGTHS,
        c.VOC_OUT_AUDIO,
        c.VOC_OUT_AUDIO_LENGTHS,
    }


def test_it_is_marked_not_padding_safe_and_the_float_model_is(
    int8_onnx: Path, vocoder_onnx: Path
) -> None:
    def pad_safe(path: Path) -> str | None:
        props = onnx.load(str(path), load_external_data=False).metadata_props
        return {p.key: p.value for p in props}.get(c.ONNX_META_PAD_SAFE)

    assert pad_safe(int8_onnx) == "false"  # built without padding masks: serving never pads it
    assert pad_safe(vocoder_onnx) == "true"


def test_equal_length_batch_matches_items_alone(int8_session) -> None:
    # What serving still batches for a model without padding masks: equal lengths only.
    items = [speech_like_mel(61, seed) for seed in range(3)]
    lengths = np.array([61, 61, 61])
    audio, audio_lengths = _run(int8_session, np.stack(items), lengths)

    np.testing.assert_array_equal(audio_lengths, lengths * SAMPLES_PER_ACOUSTIC_FRAME)
    for row, item in enumerate(items):
        alone, _ = _run(int8_session, item[None], lengths[row : row + 1])
        assert np.abs(alone[0]).max() > 1e-3
        np.testing.assert_allclose(audio[row], alone[0], atol=BATCH_ATOL)


def test_close_to_float_on_a_real_mel(int8_session, vocoder_session, held_out_mel) -> None:
    feed = vocoder_feed(held_out_mel)
    (quantized,) = int8_session.run([c.VOC_OUT_AUDIO], feed)
    (reference,) = vocoder_session.run([c.VOC_OUT_AUDIO], feed)
    assert quantized.shape == reference.shape
    assert np.isfinite(quantized).all() and np.abs(quantized).max() <= 1.0 + 1e-6
    reference_mel = vocoder_mel(reference[0])
    floor = reference_mel.max() - LOG_MEL_RANGE
    difference = np.abs(
        np.maximum(vocoder_mel(quantized[0]), floor) - np.maximum(reference_mel, floor)
    ).mean()
    assert difference < LOG_MEL_TOLERANCE


def test_the_bridge_and_the_end_convs_stay_float(vocoder_onnx: Path) -> None:
    model = onnx.load(str(vocoder_onnx))
    bridge_convs = [
        n.name for n in model.graph.node if n.op_type == "Conv" and n.name.startswith(BRIDGE_NODES)
    ]
    kept = float_nodes(model)
    assert bridge_convs and kept[: len(bridge_convs)] == bridge_convs
    assert len(kept) == len(bridge_convs) + len(GENERATOR_ENDS)
    assert all(
        any(name.startswith(end) for end in GENERATOR_ENDS) for name in kept[len(bridge_convs) :]
    )


def test_the_avx2_file_cannot_saturate_and_the_vnni_file_is_full_range() -> None:
    # The built files served by CPU kind (int8_support.choose_onnx_file): on AVX2 without
    # VNNI the 7-bit-weight file, whose pair sums fit int16 (vpmaddubsw) by construction.
    from mandarin_tts.paths import VOCODER_INT8_AVX2_ONNX
    from mandarin_tts.vocoder.quantize import conv_weight_ranges, saturation_free

    avx2 = onnx.load(str(VOCODER_INT8_AVX2_ONNX))
    vnni = onnx.load(str(VOCODER_INT8_ONNX))
    assert saturation_free(avx2) and not saturation_free(vnni)
    assert len(conv_weight_ranges(avx2)) == len(conv_weight_ranges(vnni)) > 10
