"""One real tritonserver per test session, serving the committed cpu-2 repository.

The fixture `triton_server` builds the real models if they are absent (set
MANDARIN_TTS_MODELS_DIR to serve other ONNX files), starts the server on free localhost
ports, waits for readiness plus one end-to-end synthesis, prints the server log if
anything failed, and always shuts the server down.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _frontend_process import FrontendProcess, free_port  # this folder is on sys.path

from mandarin_tts.serving.probe import probe
from mandarin_tts.serving.render import COMMITTED_REPOSITORY
from mandarin_tts.serving.server import (
    ADMIN_HEADER,
    GRPC_ADMIN_HEADER,
    ServerOptions,
    TritonProcess,
)
from mandarin_tts.serving.triton_glue import MODELS_DIR_ENV

# Development only: serve another repository (e.g. with a stand-in model) instead.
REPOSITORY_OVERRIDE_ENV = "MANDARIN_TTS_TEST_REPOSITORY"


@dataclass
class RunningServer:
    http_url: str
    grpc_url: str
    metrics_url: str
    repository: Path
    log_path: Path
    admin_headers: dict[str, str] = field(default_factory=dict)  # HTTP
    grpc_admin_headers: dict[str, str] = field(default_factory=dict)
    process: TritonProcess | None = None

    def log_tail(self, lines: int = 80) -> str:
        return self.process.log_tail(lines) if self.process else ""


def ensure_models() -> None:
    if os.environ.get(MODELS_DIR_ENV):
        return
    from mandarin_tts.build.__main__ import build

    build()


@pytest.fixture(scope="session")
def triton_server(tmp_path_factory, request):
    ensure_models()
    work = tmp_path_factory.mktemp("triton")
    repository = Path(os.environ.get(REPOSITORY_OVERRIDE_ENV, COMMITTED_REPOSITORY))
    admin_key = secrets.token_hex(8)
    process = TritonProcess(
        ServerOptions(
            repository=repository,
            http_port=free_port(),
            grpc_port=free_port(),
            metrics_port=free_port(),
            cache_bytes=32 * 1024 * 1024,
            admin_key=admin_key,
        ),
        log_path=work / "tritonserver.log",
        work_dir=work / "install",
    )
    server = RunningServer(
        http_url=process.http_url,
        grpc_url=process.grpc_url,
        metrics_url=process.metrics_url,
        repository=repository,
        log_path=process.log_path,
        admin_headers={ADMIN_HEADER: admin_key},
        grpc_admin_headers={GRPC_ADMIN_HEADER: admin_key},
        process=process,
    )
    process.start()
    try:
        process.wait_ready(timeout_s=300)
        probe(process.http_url)
    except Exception:
        print(f"--- tritonserver log ({process.log_path}) ---\n{process.log_tail(200)}")
        process.stop()
        raise
    try:
        yield server
    finally:
        if request.session.testsfailed:
            print(f"\n--- tritonserver log tail ({process.log_path}) ---\n{process.log_tail()}")
        process.stop()


@pytest.fixture(scope="module")
def frontend(triton_server: RunningServer, tmp_path_factory) -> Iterator[FrontendProcess]:
    """The HTTP frontend as its own process (as `make serve` starts it), one per test module."""
    proc = FrontendProcess(triton_server.grpc_url, log_dir=tmp_path_factory.mktemp("frontend"))
    try:
        yield proc.start()
    finally:
        proc.stop()
