"""`python -m mandarin_tts.build`: build the acoustic and vocoder ONNX models if absent or stale.

A build stamp next to the models records a digest of every input (source wheel digests,
the code that defines and exports the models, the committed bridge parameters); the
build is skipped when the stamp matches, so a warm cache finishes in seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

from mandarin_tts.build import sources
from mandarin_tts.paths import ACOUSTIC_ONNX, MODELS_DIR, PROJECT_ROOT, VOCODER_ONNX

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


def inputs_digest() -> str:
    digest = hashlib.sha256()
    for src in sorted(sources.SOURCES.values(), key=lambda s: s.name):
        digest.update(src.sha256.encode())
    for pattern in INPUT_GLOBS:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def is_current(digest: str) -> bool:
    if not (ACOUSTIC_ONNX.exists() and VOCODER_ONNX.exists() and STAMP.exists()):
        return False
    return json.loads(STAMP.read_text()).get("inputs") == digest


def build(force: bool = False) -> None:
    digest = inputs_digest()
    if not force and is_current(digest):
        print(f"models up to date in {MODELS_DIR}")
        return
    # Imported lazily: torch is only needed when something must be rebuilt.
    from mandarin_tts.acoustic.export import build_acoustic_onnx
    from mandarin_tts.vocoder.export import build_vocoder_onnx

    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    for src in sources.SOURCES.values():
        sources.ensure_extracted(src)
    build_acoustic_onnx(ACOUSTIC_ONNX)
    print(f"acoustic model -> {ACOUSTIC_ONNX} ({time.monotonic() - start:.0f} s)")
    build_vocoder_onnx(VOCODER_ONNX)
    print(f"vocoder model  -> {VOCODER_ONNX} ({time.monotonic() - start:.0f} s)")
    STAMP.write_text(json.dumps({"inputs": digest, "built_at": time.time()}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    args = parser.parse_args(argv)
    build(force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
