"""Fixtures for the Sambert tests: a random-weight tiny voice in KAN-TTS's format, its ONNX
export, a runner, and unit sequences framed as KAN-TTS frames them (eos last)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from mandarin_tts.kantts.tiny_voice import write_random_voice
from mandarin_tts.sambert.checkpoint import load_voice_am
from mandarin_tts.sambert.config import SambertConfig, tiny_config
from mandarin_tts.sambert.export import export_sambert_onnx
from mandarin_tts.sambert.framing import SambertItem, append_eos
from mandarin_tts.sambert.model import SambertModel
from mandarin_tts.sambert.runner import SambertOnnxRunner

MakeItem = Callable[..., SambertItem]


@pytest.fixture(scope="session", autouse=True)
def _few_threads() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_cfg() -> SambertConfig:
    return tiny_config()


@pytest.fixture(scope="session")
def tiny_voice(tmp_path_factory: pytest.TempPathFactory, tiny_cfg: SambertConfig) -> Path:
    """A KAN-TTS voice folder (am/config.yaml + am/ckpt/checkpoint_N.pth, and voc/) with
    random weights.

    The duration output weights are scaled up so that durations vary between units, items
    and speakers (about 5-10 frames), which exercises the length regulator and band widths.
    """
    folder = tmp_path_factory.mktemp("sambert_voice")
    write_random_voice(
        folder,
        speakers=tiny_cfg.speakers,
        seed=2,
        am_steps=1200,
        dur_bias=1.5,
        dur_weight_scale=15.0,
        am_config=tiny_cfg,
    )
    return folder


@pytest.fixture(scope="session")
def tiny_model(tiny_voice: Path) -> SambertModel:
    return load_voice_am(tiny_voice)[1]


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory, tiny_model: SambertModel) -> Path:
    folder = tmp_path_factory.mktemp("sambert_onnx")
    export_sambert_onnx(tiny_model, folder)
    return folder


@pytest.fixture(scope="session")
def runner(tiny_onnx: Path) -> SambertOnnxRunner:
    return SambertOnnxRunner.from_dir(tiny_onnx, intra_op_threads=1)


@pytest.fixture()
def make_item(tiny_cfg: SambertConfig) -> MakeItem:
    """make_item(n_units, speaker=0, emotion=1, speed=1.0, seed=0) -> SambertItem (eos last)."""
    vocab = tiny_cfg.vocab

    def make(
        n: int, speaker: int = 0, emotion: int = 1, speed: float = 1.0, seed: int = 0
    ) -> SambertItem:
        rng = np.random.default_rng(seed)
        # Real symbols only (the last three rows of every table are pad, eos, mask).
        ling = np.stack(
            [
                rng.integers(0, vocab.sy - 3, n),
                rng.integers(0, vocab.tone - 3, n),
                rng.integers(0, vocab.syllable_flag - 3, n),
                rng.integers(0, vocab.word_segment - 3, n),
            ],
            axis=-1,
        )
        emo = rng.integers(0, vocab.emotion - 3, n) if emotion < 0 else np.full(n, emotion)
        ling, emo, spk = append_eos(ling, emo, np.full(n, speaker), vocab)
        return SambertItem(ling, emo, spk, speed)

    return make
