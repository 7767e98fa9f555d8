"""Where installed voices live and what Triton calls their models.

The bundled voice is built into the models directory (`make models`); imported voices
are folders under the voices directory, one per voice. Both are under the git-ignored
cache by default and can be moved with environment variables (containers mount them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from mandarin_tts import contract as c
from mandarin_tts.voices.manifest import (
    MANIFEST_FILE,
    VoiceManifest,
    VoiceManifestError,
    load_manifest,
)

# The bundled FastSpeech2 + bridged HiFi-GAN voice (non-commercial: Baker corpus).
BUNDLED_VOICE = "baker"
MODELS_DIR_ENV = "MANDARIN_TTS_MODELS_DIR"  # the bundled voice's folder
VOICES_DIR_ENV = "MANDARIN_TTS_VOICES_DIR"  # imported voices, one folder each

STEPS = (c.MODEL_TEXT_FRONTEND, c.MODEL_ACOUSTIC, c.MODEL_VOCODER)


def models_dir() -> Path:
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override)
    from mandarin_tts.paths import MODELS_DIR

    return MODELS_DIR


def voices_dir() -> Path:
    override = os.environ.get(VOICES_DIR_ENV)
    if override:
        return Path(override)
    from mandarin_tts.paths import VOICES_DIR

    return VOICES_DIR


def voice_dir(name: str) -> Path:
    return models_dir() if name == BUNDLED_VOICE else voices_dir() / name


def _load_named(name: str, folder: Path, check_files: bool) -> VoiceManifest:
    manifest = load_manifest(folder, check_files=check_files)
    if manifest.name != name:
        raise VoiceManifestError(
            f"{folder / MANIFEST_FILE}: names voice {manifest.name!r}, but its folder is {name!r}"
        )
    return manifest


def load_voice(name: str, check_files: bool = True) -> VoiceManifest:
    return _load_named(name, voice_dir(name), check_files)


def installed_voices(
    check_files: bool = True,
    models: Path | None = None,
    voices: Path | None = None,
    on_error: Callable[[VoiceManifestError], None] | None = None,
) -> dict[str, VoiceManifest]:
    """Every installed voice by name, the bundled one first (if it is built), then the
    voices folder's in name order. Without `on_error` a broken manifest raises; with it,
    the voice is reported and skipped (one bad import must not take the others down)."""
    models = models_dir() if models is None else models
    root = voices_dir() if voices is None else voices
    candidates = [(BUNDLED_VOICE, models)] if (models / MANIFEST_FILE).exists() else []
    if root.is_dir():
        candidates += sorted((p.name, p) for p in root.iterdir() if (p / MANIFEST_FILE).exists())
    found: dict[str, VoiceManifest] = {}
    for name, folder in candidates:
        try:
            if name == BUNDLED_VOICE and folder != models:
                raise VoiceManifestError(f"{folder}: {BUNDLED_VOICE!r} is the bundled voice's name")
            found[name] = _load_named(name, folder, check_files)
        except VoiceManifestError as error:
            if on_error is None:
                raise
            on_error(error)
    return found


def ensemble_name(voice: str) -> str:
    """The bundled voice keeps the historic names (`tts`, ...) so existing clients work."""
    return c.MODEL_ENSEMBLE if voice == BUNDLED_VOICE else f"{c.MODEL_ENSEMBLE}_{voice}"


def step_name(voice: str, step: str) -> str:
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}")
    return step if voice == BUNDLED_VOICE else f"{voice}_{step}"
