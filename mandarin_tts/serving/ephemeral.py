"""A throw-away tritonserver: free localhost ports, readiness poll, optional end-to-end probe,
the log tail on failure, and always torn down.

Used by the integration tests, `make bench`'s Triton systems, the tuner (one server per
candidate tier) and the chunking micro-benchmark, which all need the same lifecycle.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from mandarin_tts.serving.ports import free_port
from mandarin_tts.serving.probe import PROBE_TEXT, probe
from mandarin_tts.serving.server import ServerError, ServerOptions, TritonProcess

DEFAULT_CACHE_BYTES = 32 * 1024 * 1024
LOG_TAIL_LINES = 200


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def ephemeral_triton(
    repository: Path,
    work_dir: Path | None = None,
    *,
    cache_bytes: int = DEFAULT_CACHE_BYTES,
    admin_key: str | None = None,
    ready_timeout_s: float = 300.0,
    probe_text: str | None = PROBE_TEXT,
    report: Callable[[str], None] = _to_stderr,
) -> Iterator[TritonProcess]:
    """Serve `repository` until the block ends.

    `work_dir` receives `tritonserver.log` and the install links; without it a temporary
    folder is used and removed afterwards. `probe_text=None` skips the end-to-end synthesis
    (readiness alone misses a crashed Python stub on Triton 2.51, so keep it where the
    repository serves the real `tts` ensemble).
    """
    temporary = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="triton-")) if work_dir is None else work_dir
    process = TritonProcess(
        ServerOptions(
            repository=repository,
            http_port=free_port(),
            grpc_port=free_port(),
            metrics_port=free_port(),
            cache_bytes=cache_bytes,
            admin_key=admin_key,
        ),
        log_path=work / "tritonserver.log",
        work_dir=work / "install",
    )
    try:
        try:
            process.start()
            process.wait_ready(timeout_s=ready_timeout_s)
            if probe_text is not None:
                probe(process.http_url, probe_text)
        except ServerError:
            raise  # its message already carries the log tail
        except Exception:
            report(
                f"--- tritonserver log ({process.log_path}) ---\n{process.log_tail(LOG_TAIL_LINES)}"
            )
            raise
        yield process
    finally:
        process.stop()
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
