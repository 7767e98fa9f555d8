"""numpy 1 for the Python-backend stubs of the pip build of tritonserver 2.51.

The 2.51 stub (`triton_python_backend_stub`, from the nvidia-pytriton wheel) was compiled
with a pybind11 that predates numpy 2's ABI: with numpy 2 it reads dtype sizes at the
wrong offsets, so the first BYTES input already fails ("unpack_from requires a buffer of
at least ... bytes" in deserialize_bytes_tensor) and the stub dies. The project's
environment uses numpy 2, so the launcher puts a small overlay, numpy 1.26.4 alone
(requirements/stub.lock, sha256-pinned, `pip install --target`), ahead of the venv's
site-packages on the stubs' path. Every other package comes from the venv; all of them
accept numpy 1.26 (their metadata says so). The NGC containers (MANDARIN_TTS_TRITON_HOME)
do not use the overlay: python_backend fixed this in PR #384 (2024-10), after 24.10 (2.51).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mandarin_tts.paths import CACHE_DIR, PROJECT_ROOT

STUB_LOCK = PROJECT_ROOT / "requirements" / "stub.lock"


def runs_the_wheel_stub(triton_home: str | None) -> bool:
    """True for the pip build: no home given, or a home whose stub is the unpacked wheel's
    (deploy/smoke_local.py assembles an NGC-style home from it)."""
    if not triton_home:
        return True
    from mandarin_tts.build.sources import extracted_dir
    from mandarin_tts.serving.pytriton_wheel import PYTRITON

    stub = Path(triton_home) / "backends" / "python" / "triton_python_backend_stub"
    return stub.exists() and extracted_dir(PYTRITON).resolve() in stub.resolve().parents


def _digest() -> str:
    return hashlib.sha256(STUB_LOCK.read_bytes()).hexdigest()[:16]


def overlay_dir() -> Path:
    """The overlay folder for the current stub.lock, installing it on first use."""
    target = CACHE_DIR / f"triton-stub-overlay-{_digest()}"
    if (target / ".complete").exists():
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / ".triton-stub-overlay.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # concurrent launchers: one installs
        if (target / ".complete").exists():
            return target
        staging = Path(tempfile.mkdtemp(prefix=".stub-overlay-", dir=CACHE_DIR))
        try:
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
                + ["--require-hashes", "--target", str(staging), "-r", str(STUB_LOCK)],
                check=True,
                timeout=900,
            )
            (staging / ".complete").write_text(STUB_LOCK.name)
            staging.chmod(0o755)
            if target.exists():
                shutil.rmtree(target)
            os.rename(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target
