"""The vocoder mel analysis and the generated fitting text."""

from __future__ import annotations

import re

import numpy as np

from mandarin_tts.contract import N_MELS, OUTPUT_SAMPLE_RATE, VOCODER_FMAX, VOCODER_HOP
from mandarin_tts.vocoder.fitting_text import FittingTextConfig, fitting_sentences
from mandarin_tts.vocoder.mel import VocoderMelConfig, mel_filterbank, vocoder_mel


def test_filterbank_shape_and_ordered_centres() -> None:
    bank = mel_filterbank(VocoderMelConfig())
    assert bank.shape == (N_MELS, VocoderMelConfig().n_fft // 2 + 1)
    assert (bank >= 0).all()
    peaks = bank.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all()
    assert (bank.sum(axis=1) > 0).all()


def test_tone_lands_in_the_right_band_and_frame_count_is_exact() -> None:
    n = VOCODER_HOP * 50
    t = np.arange(n) / OUTPUT_SAMPLE_RATE
    mel = vocoder_mel((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32))
    assert mel.shape == (50, N_MELS)
    bank = mel_filterbank(VocoderMelConfig())
    bin_1k = round(1000 / (OUTPUT_SAMPLE_RATE / 2) * (bank.shape[1] - 1))
    assert mel[25].argmax() == bank[:, bin_1k].argmax()
    assert mel.min() >= np.log(VocoderMelConfig().log_clamp) - 1e-5
    assert VOCODER_FMAX == OUTPUT_SAMPLE_RATE / 2


def test_silence_hits_the_log_clamp() -> None:
    mel = vocoder_mel(np.zeros(VOCODER_HOP * 4, np.float32))
    np.testing.assert_allclose(mel, np.log(VocoderMelConfig().log_clamp), rtol=1e-6)


def test_fitting_sentences_are_deterministic_hanzi_and_skip_excluded() -> None:
    config = FittingTextConfig(n_sentences=20)
    first = fitting_sentences(config)
    assert first == fitting_sentences(config)
    assert len(first) == 20
    assert all(re.fullmatch(r"[\u4e00-\u9fff，。？！]+", s) for s in first)
    without = fitting_sentences(config, exclude={first[0]})
    assert first[0] not in without
