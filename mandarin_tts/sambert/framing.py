"""Sambert input items and KAN-TTS's input framing (numpy only; no torch).

KAN-TTS's `KanTtsLinguisticUnit.encode_symbol_sequence` appends the eos symbol "~" to every
sub-unit sequence (sy, tone, syllable_flag, word_segment, emotion, speaker), so a sentence of
n units encodes to n + 1 ids per stream. The acoustic model was trained WITHOUT that eos: the
dataset passes `valid_input_lengths = len - 1` ("the appended ~ would affect the durations"),
and at inference ModelScope/KAN-TTS call `am(ling[:, :-1], emo[:, :-1], spk[:, :-1], len - 1)`.

`SambertItem` therefore holds the sequence exactly as `encode_symbol_sequence` returns it (eos
last), and `model_units()` below is THE one place that drops it. `append_eos()` builds that
framing for a frontend that produces the n units alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mandarin_tts.sambert.config import VocabSizes


@dataclass(frozen=True)
class SambertItem:
    """One utterance: ids per unit including the trailing eos unit, and its speed."""

    ling: np.ndarray  # int64 [T, 4]: sy, tone, syllable_flag, word_segment ids
    emotion: np.ndarray  # int64 [T]
    speaker: np.ndarray  # int64 [T]
    speed: float = 1.0  # > 0; durations are divided by it before rounding (2.0 = twice as fast)


def append_eos(
    ling: np.ndarray, emotion: np.ndarray, speaker: np.ndarray, vocab: VocabSizes
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Append the eos unit ("~" in every table) as encode_symbol_sequence does."""
    sy, tone, flag, ws, emo, spk = vocab.eos_ids()
    ling = np.concatenate([np.asarray(ling, np.int64), np.array([[sy, tone, flag, ws]], np.int64)])
    emotion = np.concatenate([np.asarray(emotion, np.int64), np.array([emo], np.int64)])
    speaker = np.concatenate([np.asarray(speaker, np.int64), np.array([spk], np.int64)])
    return ling, emotion, speaker


def validate_item(item: SambertItem, vocab: VocabSizes, max_units: int) -> None:
    """Raise ValueError for shapes, ids out of range, a missing eos, or a bad speed."""
    ling = np.asarray(item.ling)
    emotion = np.asarray(item.emotion)
    speaker = np.asarray(item.speaker)
    if ling.ndim != 2 or ling.shape[1] != 4:
        raise ValueError(f"ling must be [T, 4], got shape {ling.shape}")
    t = ling.shape[0]
    if emotion.shape != (t,) or speaker.shape != (t,):
        raise ValueError(
            f"emotion {emotion.shape} and speaker {speaker.shape} must be [T] with T = {t}"
        )
    if t < 2:
        raise ValueError("an item needs at least one unit plus the trailing eos unit")
    if t - 1 > max_units:
        raise ValueError(f"{t - 1} units exceed the exported limit of {max_units}")
    for name, ids, size in (
        ("sy", ling[:, 0], vocab.sy),
        ("tone", ling[:, 1], vocab.tone),
        ("syllable_flag", ling[:, 2], vocab.syllable_flag),
        ("word_segment", ling[:, 3], vocab.word_segment),
        ("emotion", emotion, vocab.emotion),
        ("speaker", speaker, vocab.speaker),
    ):
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"{name} ids must be integers, got {ids.dtype}")
        if ids.min() < 0 or ids.max() >= size:
            raise ValueError(f"{name} ids must lie in [0, {size}), got {ids.min()}..{ids.max()}")
    last = (*ling[-1].tolist(), int(emotion[-1]), int(speaker[-1]))
    if last != vocab.eos_ids():
        raise ValueError(
            f"the last unit must be the eos unit {vocab.eos_ids()} (KAN-TTS framing, see "
            f"framing.append_eos), got {last}"
        )
    if not (np.isfinite(item.speed) and item.speed > 0):
        raise ValueError(f"speed must be a positive number, got {item.speed}")


def model_units(item: SambertItem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The units the acoustic model sees: the item without its trailing eos unit."""
    return (
        np.ascontiguousarray(item.ling[:-1], dtype=np.int64),
        np.ascontiguousarray(item.emotion[:-1], dtype=np.int64),
        np.ascontiguousarray(item.speaker[:-1], dtype=np.int64),
    )
