"""Fixtures for the KAN-TTS voice tests: tables, the units frontend, a tiny random voice."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mandarin_tts.kantts.tables import UnitTables
from mandarin_tts.kantts.units import KanttsUnitsFrontend


@pytest.fixture(scope="session", autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def tables() -> UnitTables:
    return UnitTables.for_speakers(["F7", "M7", "xiaoyu"])


@pytest.fixture(scope="session")
def units_frontend(tables: UnitTables) -> KanttsUnitsFrontend:
    return KanttsUnitsFrontend(tables)  # jieba's dictionary loads once for the session


@pytest.fixture(scope="session")
def tiny_voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mandarin_tts.kantts.tiny_voice import write_random_voice

    return write_random_voice(tmp_path_factory.mktemp("voice") / "v", speakers=("F7", "M7"))
