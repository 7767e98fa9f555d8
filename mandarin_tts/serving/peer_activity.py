"""Whether another instance of the same Triton model is running a request right now.

Triton's Python-backend instances are separate processes, so a lone request can use both
cores only if its instance runs with two onnxruntime threads, while two busy instances with
two threads each oversubscribe the cores (measured in docs/bench.md: 0.88x the
single-thread layout at concurrency 8). An instance that knows whether its peers are busy
can pick its session per run. Each instance holds an exclusive `flock` on its own file for
the length of a run; the kernel drops the lock when a process dies, so a crashed stub never
looks busy. On an AVX2 EPYC the choice measured within noise of the fixed layout, so cpu-2
leaves it off (tiers.toml, docs/bench.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

SUFFIX = ".running"


def peers_directory(model_directory: str, root: Path | None = None) -> Path:
    """One directory per model directory (and so per rendered repository and model)."""
    digest = hashlib.sha1(os.path.abspath(model_directory).encode()).hexdigest()[:16]
    return (root or Path(tempfile.gettempdir())) / "mandarin-tts-peers" / digest


class PeerActivity:
    def __init__(self, directory: Path, instance: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.path = directory / f"{instance}{SUFFIX}"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def others_running(self) -> bool:
        """True if any other instance holds its lock now."""
        for path in self.directory.glob(f"*{SUFFIX}"):
            if path == self.path:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            finally:
                os.close(fd)  # closing drops the shared lock if it was taken
        return False

    @contextlib.contextmanager
    def running(self) -> Iterator[bool]:
        """Hold this instance's lock for one run; yields whether others run too.

        The lock is taken before looking at the others, so of two runs that start together
        at least one sees the other: two wide runs never start at the same moment.
        """
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield self.others_running()
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
