"""Shared fixtures for the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def built_models() -> tuple[Path, Path]:
    """(acoustic ONNX, vocoder ONNX) from `python -m mandarin_tts.build`.

    build() is a no-op when the stamped models are current, and (re)builds them when
    they are missing or stale, so tests never run against an outdated model.
    """
    from mandarin_tts.build.__main__ import build
    from mandarin_tts.paths import ACOUSTIC_ONNX, VOCODER_ONNX

    build()
    return ACOUSTIC_ONNX, VOCODER_ONNX
