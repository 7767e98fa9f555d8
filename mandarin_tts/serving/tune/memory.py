"""Peak resident memory of a process tree, from /proc (VmHWM: each process's own peak)."""

from __future__ import annotations

from pathlib import Path

import psutil


def peak_rss_mb(pid: int | None = None) -> float:
    """VmHWM of one process in MiB (not ru_maxrss: Linux carries that over across exec)."""
    where = Path("/proc/self/status" if pid is None else f"/proc/{pid}/status")
    try:
        for line in where.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_peak_rss_mb(pid: int) -> float:
    """Sum of the peaks of a process and its descendants (Triton: server + one stub per
    model instance). Peaks need not coincide, so this is an upper bound on the true peak."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    return peak_rss_mb(pid) + sum(peak_rss_mb(child.pid) for child in children)
