"""The command-line client against an in-process frontend with a fake synthesizer."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf
from aiohttp import web
from app_server_helpers import serve_in_thread
from frontend_helpers import FakeSynthesizer

from client.__main__ import main
from client.progress import ProgressBar
from client.wav import fix_wav_sizes
from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.encoding import wav_header


@pytest.fixture(scope="module")
def frontend_url() -> Iterator[str]:
    """A real HTTP frontend on a free port (fake synthesizer), in a background thread."""

    def make_app(port: int) -> web.Application:
        config = FrontendConfig(port=port, chunk_max_chars=20)
        return create_app(config, lambda _c: FakeSynthesizer(0.001))

    with serve_in_thread(make_app) as url:
        yield url


def test_fix_wav_sizes() -> None:
    streamed = wav_header(None, 16000) + b"\x01\x00" * 100
    fixed = fix_wav_sizes(streamed)
    assert struct.unpack_from("<I", fixed, 4)[0] == len(fixed) - 8
    assert struct.unpack_from("<I", fixed, 40)[0] == 200
    assert fix_wav_sizes(b"not a wav") == b"not a wav"


def test_progress_bar_draws_to_the_end() -> None:
    out = io.StringIO()
    bar = ProgressBar(10, "job", stream=out)
    bar.update(5)
    assert "50.0%" in out.getvalue()
    bar.finish()
    assert "100.0%" in out.getvalue() and out.getvalue().endswith("\n")


def test_text_to_wav_via_frontend(frontend_url: str, tmp_path: Path) -> None:
    output = tmp_path / "hello.wav"
    assert main(["你好，世界。", "-o", str(output), "--url", frontend_url]) == 0
    info = sf.info(str(output))
    assert info.samplerate == 16000 and info.frames > 0


def test_long_file_shows_progress(
    frontend_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "chapter.txt"
    source.write_text("春天来了，花开了，鸟儿在歌唱。\n" * 40, encoding="utf-8")
    output = tmp_path / "chapter.wav"
    assert main(["--file", str(source), "-o", str(output), "--url", frontend_url]) == 0
    err = capsys.readouterr().err
    assert "synthesizing [" in err and "100.0%" in err
    data, rate = sf.read(str(output))
    assert data.size / rate > 1.0


def test_flac_via_frontend(frontend_url: str, tmp_path: Path) -> None:
    output = tmp_path / "x.flac"
    assert main(["你好。", "-o", str(output), "--url", frontend_url, "--format", "flac"]) == 0
    assert sf.info(str(output)).format == "FLAC"


def test_errors_are_reported_with_nonzero_exit(
    frontend_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["你好", "--speed", "9", "-o", str(tmp_path / "x.wav"), "--url", frontend_url]) == 1
    assert "HTTP 400" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


def test_voice_options_and_list_voices(
    frontend_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert main(["--list-voices", "--url", frontend_url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["default"] == "baker" and listed["voices"][0]["speakers"] == ["baker"]
    output = tmp_path / "v.wav"
    args = ["你好。", "-o", str(output), "--url", frontend_url, "--voice", "baker"]
    assert main([*args, "--speaker", "baker", "--emotion", "neutral"]) == 0
    assert sf.info(str(output)).samplerate == 16000
    assert main([*args, "--emotion", "angry"]) == 1
    err = capsys.readouterr().err
    assert "HTTP 400" in err and "neutral" in err
