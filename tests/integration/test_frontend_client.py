"""The command-line client against the real Triton (HTTP and gRPC) and the real frontend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from _frontend_process import FrontendProcess

from client.__main__ import main

pytestmark = pytest.mark.integration
TEXT = "欢迎使用中文语音合成服务。今天天气真好，适合出去散步。"


@pytest.fixture(scope="module")
def frontend(
    triton_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FrontendProcess]:
    proc = FrontendProcess(triton_server.grpc_url, log_dir=tmp_path_factory.mktemp("frontend"))
    try:
        yield proc.start()
    finally:
        proc.stop()


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
    source = Path("/work/shared/eval/long_zh.txt")
    if not source.exists():
        pytest.skip(f"{source} is missing")
    output = tmp_path / "long.wav"
    assert main(["--file", str(source), "--url", frontend.url, "-o", str(output)]) == 0
    assert "100.0%" in capsys.readouterr().err
    assert sf.info(str(output)).duration > 30
