"""The int8 calibration data: committed sentences disjoint from the eval set, and the reader."""

from __future__ import annotations

import pytest
from mel_helpers import speech_like_mel

from mandarin_tts import contract as c
from mandarin_tts.paths import EVAL_SENTENCES
from mandarin_tts.vocoder.calibration_data import MelCalibrationReader
from mandarin_tts.vocoder.calibration_text import CALIBRATION_SENTENCES


def test_calibration_sentences_are_disjoint_from_the_eval_sentences() -> None:
    if not EVAL_SENTENCES.exists():
        pytest.skip(f"{EVAL_SENTENCES} not present")
    eval_lines = {line.strip() for line in EVAL_SENTENCES.read_text("utf-8").splitlines()}
    assert not set(CALIBRATION_SENTENCES) & eval_lines
    assert len(set(CALIBRATION_SENTENCES)) == len(CALIBRATION_SENTENCES)


def test_calibration_reader_walks_its_range_once() -> None:
    mels = [speech_like_mel(n, n) for n in (5, 8, 13)]
    reader = MelCalibrationReader(mels)
    lengths = [int(feed[c.VOC_IN_MEL_LENGTHS][0]) for feed in reader]
    assert lengths == [5, 8, 13] and len(reader) == 3
    reader.set_range(1, 2)
    assert [feed[c.VOC_IN_MEL].shape for feed in reader] == [(1, 8, c.N_MELS)]
    reader.rewind()
    assert reader.get_next() is not None and reader.get_next() is None
