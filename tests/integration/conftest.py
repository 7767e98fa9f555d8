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
from frontend_process_helpers import FrontendProcess  # this folder is on sys.path
from serving_helpers import EMPTY_LEXICON

from mandarin_tts.serving.ephemeral import ephemeral_triton
from mandarin_tts.serving.render import COMMITTED_REPOSITORY
from mandarin_tts.serving.server import ADMIN_HEADER, GRPC_ADMIN_HEADER, TritonProcess
from mandarin_tts.text.lexicon import LEXICON_ENV
from mandarin_tts.voices.registry import MODELS_DIR_ENV

# Development only: serve another repository (e.g. with a stand-in model) instead.
REPOSITORY_OVERRIDE_ENV = "MANDARIN_TTS_TEST_REPOSITORY"


@dataclass
class RunningServer:
    http_url: str
    grpc_url: str
    metrics_url: str
    repository: Path
    log_path: Path
    # The deployment lexicon file the server watches (MANDARIN_TTS_LEXICON); it holds only
    # a comment unless a test writes entries (and puts the comment back when done).
    lexicon_path: Path | None = None
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
    lexicon_path = work / "lexicon.txt"
    lexicon_path.write_text(EMPTY_LEXICON, encoding="utf-8")
    # The server (and its stubs) inherit this environment: the deployment lexicon is on.
    previous_lexicon = os.environ.get(LEXICON_ENV)
    os.environ[LEXICON_ENV] = str(lexicon_path)
    try:
        with ephemeral_triton(repository, work, admin_key=admin_key) as process:
            yield from _serve(process, repository, admin_key, lexicon_path, request)
    finally:
        if previous_lexicon is None:
            os.environ.pop(LEXICON_ENV, None)
        else:
            os.environ[LEXICON_ENV] = previous_lexicon


def _serve(
    process: TritonProcess, repository: Path, admin_key: str, lexicon_path: Path, request
) -> Iterator[RunningServer]:
    try:
        yield RunningServer(
            http_url=process.http_url,
            grpc_url=process.grpc_url,
            metrics_url=process.metrics_url,
            repository=repository,
            log_path=process.log_path,
            lexicon_path=lexicon_path,
            admin_headers={ADMIN_HEADER: admin_key},
            grpc_admin_headers={GRPC_ADMIN_HEADER: admin_key},
            process=process,
        )
    finally:
        if request.session.testsfailed:
            print(f"\n--- tritonserver log tail ({process.log_path}) ---\n{process.log_tail()}")


@pytest.fixture(scope="module")
def frontend(triton_server: RunningServer, tmp_path_factory) -> Iterator[FrontendProcess]:
    """The HTTP frontend as its own process (as `make serve` starts it), one per test module."""
    proc = FrontendProcess(triton_server.grpc_url, log_dir=tmp_path_factory.mktemp("frontend"))
    try:
        yield proc.start()
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def large_body_frontend(
    triton_server: RunningServer, tmp_path_factory
) -> Iterator[FrontendProcess]:
    """The frontend with a 2 MB body limit, so that hostile SSML documents larger than the
    default 256 KiB reach the SSML parser (tests/integration/test_ssml.py)."""
    proc = FrontendProcess(
        triton_server.grpc_url,
        "--max-body-bytes",
        str(2 * 1024 * 1024),
        log_dir=tmp_path_factory.mktemp("frontend-large-body"),
    )
    try:
        yield proc.start()
    finally:
        proc.stop()
