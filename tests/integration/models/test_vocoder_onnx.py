"""The exported vocoder ONNX: checker, interface, padding safety, exact lengths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from mel_helpers import speech_like_mel

from mandarin_tts import contract as c
from mandarin_tts.vocoder.bridge import SAMPLES_PER_ACOUSTIC_FRAME
from mandarin_tts.vocoder.export import build_vocoder_module

# Items may differ near their own end (where a lone item meets the sequence boundary).
END_SAMPLES = 400


def _run(session, mel: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    audio, audio_lengths = session.run(
        [c.VOC_OUT_AUDIO, c.VOC_OUT_AUDIO_LENGTHS],
        {c.VOC_IN_MEL: mel, c.VOC_IN_MEL_LENGTHS: lengths.astype(np.int64)},
    )
    return audio, audio_lengths


def test_checker_passes(vocoder_onnx: Path) -> None:
    onnx.checker.check_model(onnx.load(str(vocoder_onnx)), full_check=True)


def test_interface_names_and_dynamic_axes(vocoder_onnx: Path) -> None:
    graph = onnx.load(str(vocoder_onnx)).graph

    def dims(value: onnx.ValueInfoProto) -> list[str | int]:
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    inputs = {v.name: dims(v) for v in graph.input}
    outputs = {v.name: dims(v) for v in graph.output}
    assert set(inputs) == {c.VOC_IN_MEL, c.VOC_IN_MEL_LENGTHS}
    assert set(outputs) == {c.VOC_OUT_AUDIO, c.VOC_OUT_AUDIO_LENGTHS}
    assert all(isinstance(d, str) for d in inputs[c.VOC_IN_MEL][:2])
    assert inputs[c.VOC_IN_MEL][2] == c.N_MELS
    assert all(isinstance(d, str) for d in outputs[c.VOC_OUT_AUDIO])


def test_mixed_length_batch_matches_items_alone(vocoder_session) -> None:  # type: ignore[no-untyped-def]
    lengths = np.array([37, 90, 61])
    items = [speech_like_mel(n, seed) for seed, n in enumerate(lengths)]
    batch = np.full((3, lengths.max(), c.N_MELS), 4.0, np.float32)  # loud padding garbage
    for row, item in enumerate(items):
        batch[row, : item.shape[0]] = item
    audio, audio_lengths = _run(vocoder_session, batch, lengths)

    assert audio.shape == (3, lengths.max() * SAMPLES_PER_ACOUSTIC_FRAME)
    np.testing.assert_array_equal(audio_lengths, lengths * SAMPLES_PER_ACOUSTIC_FRAME)
    for row, item in enumerate(items):
        alone, alone_len = _run(vocoder_session, item[None], lengths[row : row + 1])
        n = int(audio_lengths[row])
        assert int(alone_len[0]) == n == alone.shape[1]
        assert np.abs(alone[0]).max() > 1e-3
        np.testing.assert_allclose(
            audio[row, : n - END_SAMPLES], alone[0, : n - END_SAMPLES], atol=5e-4
        )
        assert not audio[row, n:].any(), "padded tail must be zero"


def test_single_frame_and_batch_of_one(vocoder_session) -> None:  # type: ignore[no-untyped-def]
    mel = speech_like_mel(1, 7)[None]
    audio, lengths = _run(vocoder_session, mel, np.array([1]))
    assert audio.shape == (1, SAMPLES_PER_ACOUSTIC_FRAME)
    assert int(lengths[0]) == SAMPLES_PER_ACOUSTIC_FRAME
    assert np.isfinite(audio).all()


def test_onnx_matches_torch_module(vocoder_session) -> None:  # type: ignore[no-untyped-def]
    module = build_vocoder_module()
    mel = np.stack([speech_like_mel(48, 3), speech_like_mel(48, 4)])
    lengths = np.array([48, 30])
    audio, audio_lengths = _run(vocoder_session, mel, lengths)
    with torch.no_grad():
        expected, expected_lengths = module(torch.from_numpy(mel), torch.from_numpy(lengths))
    np.testing.assert_array_equal(audio_lengths, expected_lengths.numpy())
    np.testing.assert_allclose(audio, expected.numpy(), atol=5e-4)
    assert np.abs(audio).max() <= 1.0 + 1e-6  # tanh output
