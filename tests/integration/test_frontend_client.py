"""The command-line client against the real Triton (HTTP and gRPC) and the real frontend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from frontend_process_helpers import PROJECT_ROOT, FrontendProcess, eval_text_path

from client.__main__ import main

pytestmark = pytest.mark.integration
TEXT = "欢迎使用中文语音合成服务。今天天气真好，适合出去散步。"


@pytest.mark.parametrize("via", ["http", "grpc", "frontend"])
def test_client_writes_the_same_length_by_every_path(
    via: str, triton_server: Any, frontend: FrontendProcess, tmp_path: Path
) -> None:
    url = {
        "http": triton_server.http_url,
        "grpc": triton_server.grpc_url,
        "frontend": frontend.url,
    }[via]
    output = tmp_path / f"{via}.wav"
    assert main([TEXT, "--via", via, "--url", url, "-o", str(output)]) == 0
    info = sf.info(str(output))
    assert info.samplerate == 16000 and info.duration > 1.0
    reference = tmp_path / "reference.wav"
    assert main([TEXT, "--via", "grpc", "--url", triton_server.grpc_url, "-o", str(reference)]) == 0
    # Same chunking and assembly code on both sides: the same number of samples.
    assert info.frames == sf.info(str(reference)).frames


def test_long_file_via_frontend_with_progress(
    frontend: FrontendProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = eval_text_path("long_zh.txt")
    if not source.exists():
        pytest.skip(f"{source} is missing")
    output = tmp_path / "long.wav"
    assert main(["--file", str(source), "--url", frontend.url, "-o", str(output)]) == 0
    assert "100.0%" in capsys.readouterr().err
    assert sf.info(str(output)).duration > 30


@pytest.mark.parametrize(
    ("example", "server", "output"),
    [
        ("frontend_http", "frontend", "hello.wav"),
        ("openai_speech", "frontend", "hello_openai.wav"),
        ("triton_http", "http", "hello_http.wav"),
        ("triton_grpc", "grpc", "hello_grpc.wav"),
    ],
)
def test_protocol_examples_run(
    example: str,
    server: str,
    output: str,
    triton_server: Any,
    frontend: FrontendProcess,
    tmp_path: Path,
) -> None:
    url = {
        "http": triton_server.http_url,
        "grpc": triton_server.grpc_url,
        "frontend": frontend.url,
    }[server]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", f"client.examples.{example}", url],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert sf.info(str(tmp_path / output)).duration > 0.5
