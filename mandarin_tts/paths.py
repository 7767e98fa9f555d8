"""Where the project keeps downloaded wheels and built model files (git-ignored)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Everything downloaded or built lives here so a second run is fast; override for CI caches.
CACHE_DIR = Path(os.environ.get("MANDARIN_TTS_CACHE", PROJECT_ROOT / ".cache"))
DOWNLOAD_DIR = CACHE_DIR / "downloads"
EXTRACT_DIR = CACHE_DIR / "extracted"
MODELS_DIR = CACHE_DIR / "models"  # the bundled voice (voice.json + its ONNX files)
# Imported voices (python -m mandarin_tts.voices import ...), one folder each.
VOICES_DIR = CACHE_DIR / "voices"

ACOUSTIC_ONNX = MODELS_DIR / "acoustic.onnx"
VOCODER_ONNX = MODELS_DIR / "vocoder.onnx"
# Int8 static-quantized vocoder (mandarin_tts/vocoder/quantize.py), a CPU-tier option.
VOCODER_INT8_ONNX = MODELS_DIR / "vocoder_int8.onnx"
# The same with 7-bit weights, which cannot saturate AVX2's u8s8 kernels: served on x86
# CPUs with AVX2 but no VNNI (serving/int8_support.py).
VOCODER_INT8_AVX2_ONNX = MODELS_DIR / "vocoder_int8_avx2.onnx"

# Benchmark and demo texts (sentences_zh.txt, long_zh.txt): the workplace's shared folder
# sits beside the checkout (CI clones next to it too); override with MANDARIN_TTS_EVAL_DIR.
EVAL_DIR = Path(os.environ.get("MANDARIN_TTS_EVAL_DIR", PROJECT_ROOT.parent / "shared" / "eval"))
EVAL_SENTENCES = EVAL_DIR / "sentences_zh.txt"
EVAL_LONG = EVAL_DIR / "long_zh.txt"
