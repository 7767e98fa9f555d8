"""Where the project keeps downloaded wheels and built model files (git-ignored)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Everything downloaded or built lives here so a second run is fast; override for CI caches.
CACHE_DIR = Path(os.environ.get("MANDARIN_TTS_CACHE", PROJECT_ROOT / ".cache"))
DOWNLOAD_DIR = CACHE_DIR / "downloads"
EXTRACT_DIR = CACHE_DIR / "extracted"
MODELS_DIR = CACHE_DIR / "models"

ACOUSTIC_ONNX = MODELS_DIR / "acoustic.onnx"
VOCODER_ONNX = MODELS_DIR / "vocoder.onnx"
