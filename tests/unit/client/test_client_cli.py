"""The command-line client against an in-process frontend with a fake synthesizer."""

from __future__ import annotations

import io
import re
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from aiohttp import web
from app_server_helpers import serve_in_thread
from frontend_helpers import FakeSynthesizer

from client.__main__ import main
from client.audio_clock import audio_clock
from client.progress import ProgressBar
from client.wav import fix_wav_sizes
from frontend.app import create_app
from frontend.audio.wav import WAVE_FORMAT_MULAW, g711_wav_header
from frontend.config import FrontendConfig
from frontend.encoding import AudioFormat, encode, wav_header

LONG = "春天来了，花开了，鸟儿在歌唱。\n" * 40


def _serve(environ: dict[str, str]) -> Iterator[str]:
    def make_app(port: int) -> web.Application:
        config = FrontendConfig(port=port, chunk_max_chars=20)
        return create_app(config, lambda _c: FakeSynthesizer(0.001), environ)

    with serve_in_thread(make_app) as url:
        yield url


@pytest.fixture(scope="module")
def frontend_url() -> Iterator[str]:
    """A real HTTP frontend on a free port (fake synthesizer), in a background thread."""
    yield from _serve({})


@pytest.fixture(scope="module")
def keyed_url() -> Iterator[str]:
    """The same with an API key required."""
    yield from _serve({"TTS_API_KEYS": "sesame"})


@pytest.fixture(autouse=True)
def _no_key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TTS_API_KEY", raising=False)


def test_fix_wav_sizes() -> None:
    streamed = wav_header(None, 16000) + b"\x01\x00" * 100
    fixed = fix_wav_sizes(streamed)
    assert struct.unpack_from("<I", fixed, 4)[0] == len(fixed) - 8
    assert struct.unpack_from("<I", fixed, 40)[0] == 200
    assert fix_wav_sizes(b"not a wav") == b"not a wav"
    # G.711 WAV: its data chunk comes after a fact chunk, whose sample count is fixed too.
    mulaw = g711_wav_header(None, 8000, WAVE_FORMAT_MULAW) + b"\x7f" * 801
    fixed = fix_wav_sizes(mulaw)
    info = sf.info(io.BytesIO(fixed))
    assert info.samplerate == 8000 and info.frames == 801 and "ULAW" in info.subtype


def test_progress_bar_draws_to_the_end() -> None:
    out = io.StringIO()
    bar = ProgressBar(10, "job", stream=out)
    bar.update(5)
    assert "50.0%" in out.getvalue()
    bar.finish()
    assert "100.0%" in out.getvalue() and out.getvalue().endswith("\n")


@pytest.mark.parametrize(
    ("fmt", "rate", "tolerance"),
    [
        ("wav", 16000, 0.0),
        ("pcm", 24000, 0.0),
        ("mulaw", 8000, 0.0),
        ("alaw", 48000, 0.0),
        ("mp3", 24000, 0.03),  # encoder delay and the gapless header frame
        ("mp3", 44100, 0.03),
        ("ogg_opus", 48000, 0.01),
    ],
)
def test_the_audio_clock_reads_seconds_from_each_format(
    fmt: str, rate: int, tolerance: float
) -> None:
    audio = (0.5 * np.sin(np.arange(16000 * 3) * 0.1)).astype(np.float32)  # 3 s at 16 kHz
    data = encode(audio, 16000, AudioFormat(fmt), rate)
    clock = audio_clock(fmt, rate)
    assert clock is not None
    seen = [clock.feed(data[i : i + 1000]) for i in range(0, len(data), 1000)]
    assert seen == sorted(seen)  # never goes back
    assert seen[-1] == pytest.approx(3.0, rel=tolerance, abs=1e-3)
    # Time, not bytes (an MP3's bytes read as 16 kHz PCM would give about a tenth of it).
    assert seen[len(seen) // 2] == pytest.approx(1.5, rel=0.25)
    assert audio_clock("flac", rate) is None


def test_text_to_wav_via_frontend(frontend_url: str, tmp_path: Path) -> None:
    output = tmp_path / "hello.wav"
    assert main(["你好，世界。", "-o", str(output), "--url", frontend_url]) == 0
    info = sf.info(str(output))
    assert info.samplerate == 16000 and info.frames > 0


def _last_progress(err: str) -> tuple[float, float]:
    done, total = re.findall(r"([\d.]+)/([\d.]+)s", err)[-1]
    return float(done), float(total)


def test_long_file_shows_progress(
    frontend_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "chapter.txt"
    source.write_text(LONG, encoding="utf-8")
    output = tmp_path / "chapter.wav"
    assert main(["--file", str(source), "-o", str(output), "--url", frontend_url]) == 0
    err = capsys.readouterr().err
    assert "synthesizing [" in err and "100.0%" in err
    data, rate = sf.read(str(output))
    assert data.size / rate > 1.0
    assert _last_progress(err) == pytest.approx((data.size / rate,) * 2, abs=0.1)


@pytest.mark.parametrize("fmt", ["mp3", "ogg_opus", "flac"])
def test_progress_counts_audio_seconds_of_compressed_formats(
    fmt: str, frontend_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "chapter.txt"
    source.write_text(LONG, encoding="utf-8")
    output = tmp_path / f"chapter.{fmt}"
    args = ["--file", str(source), "-o", str(output), "--url", frontend_url, "--format", fmt]
    assert main(args) == 0
    err = capsys.readouterr().err
    seconds = sf.info(str(output)).duration
    done, total = _last_progress(err)
    # Bytes counted as 16 kHz PCM would give a small fraction of this (mp3 at 24 kbit/s).
    assert done == total == pytest.approx(seconds, rel=0.05)
    assert "100.0%" in err


@pytest.mark.parametrize(
    ("fmt", "rate", "expected_rate"),
    [
        ("wav", 24000, 24000),
        ("flac", 48000, 48000),
        ("mp3", 22050, 22050),
        ("ogg_opus", 16000, 16000),
        ("mulaw", None, 8000),
        ("alaw", 16000, 16000),
    ],
)
def test_every_format_and_rate(
    fmt: str, rate: int | None, expected_rate: int, frontend_url: str, tmp_path: Path
) -> None:
    text = LONG[:100]
    reference = tmp_path / "reference.wav"
    assert main([text, "-o", str(reference), "--url", frontend_url, "--no-progress"]) == 0
    output = tmp_path / f"out.{fmt}"
    args = [text, "-o", str(output), "--url", frontend_url, "--format", fmt, "--no-progress"]
    assert main(args + (["--sample-rate", str(rate)] if rate else [])) == 0
    info = sf.info(str(output))
    assert info.samplerate == expected_rate
    # A streamed MP3 has no gapless header: decoders keep the encoder's delay and padding.
    padding_s = 2 * 1152 / expected_rate if fmt == "mp3" else 0.0
    expected = sf.info(str(reference)).duration
    assert expected > 2.0
    assert expected - 0.01 * expected <= info.duration <= expected * 1.01 + padding_s


def test_pcm_is_raw_samples_at_the_asked_rate(frontend_url: str, tmp_path: Path) -> None:
    wav, pcm = tmp_path / "a.wav", tmp_path / "a.pcm"
    assert main(["你好。", "-o", str(wav), "--url", frontend_url]) == 0
    args = ["你好。", "-o", str(pcm), "--url", frontend_url, "--format", "pcm"]
    assert main(args + ["--sample-rate", "48000"]) == 0
    assert pcm.stat().st_size / 2 / 48000 == pytest.approx(sf.info(str(wav)).duration, abs=0.01)


def _stdio(monkeypatch: pytest.MonkeyPatch, text: str) -> io.BytesIO:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))
    return out


def test_stdin_text_and_stdout_audio(frontend_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _stdio(monkeypatch, "从标准输入读到的文字。")
    assert main(["-", "-o", "-", "--url", frontend_url, "--format", "mp3"]) == 0
    audio, rate = sf.read(io.BytesIO(out.getvalue()))
    assert rate == 16000 and audio.size >= 100 * 11  # the fake's 100 samples per character
    out = _stdio(monkeypatch, "又一段。")
    assert main(["--file", "-", "-o", "-", "--url", frontend_url]) == 0
    assert out.getvalue()[:4] == b"RIFF"  # streamed WAV (sizes unknown) straight out


def test_flac_via_frontend(frontend_url: str, tmp_path: Path) -> None:
    output = tmp_path / "x.flac"
    assert main(["你好。", "-o", str(output), "--url", frontend_url, "--format", "flac"]) == 0
    assert sf.info(str(output)).format == "FLAC"


def test_errors_are_reported_with_the_servers_message_and_nonzero_exit(
    frontend_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["你好", "--speed", "9", "-o", str(tmp_path / "x.wav"), "--url", frontend_url]) == 1
    err = capsys.readouterr().err
    assert "HTTP 400 invalid_parameter: 'speed' is 9" in err
    assert not (tmp_path / "x.wav").exists()
    args = ["你好", "--format", "ogg_opus", "--sample-rate", "44100", "--url", frontend_url]
    assert main([*args, "-o", str(tmp_path / "x.opus")]) == 1
    assert "'sample_rate' 44100 is not supported by ogg_opus" in capsys.readouterr().err
    assert main(["你好", "-o", str(tmp_path / "y.wav"), "--url", "http://127.0.0.1:9"]) == 1
    assert "cannot reach" in capsys.readouterr().err


def test_api_key_from_the_option_or_the_environment(
    keyed_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    output = tmp_path / "k.wav"
    assert main(["你好。", "-o", str(output), "--url", keyed_url]) == 1
    assert "HTTP 401 unauthorized: missing or unknown API key" in capsys.readouterr().err
    assert main(["你好。", "-o", str(output), "--url", keyed_url, "--api-key", "sesame"]) == 0
    monkeypatch.setenv("TTS_API_KEY", "sesame")
    assert main(["你好。", "-o", str(output), "--url", keyed_url]) == 0
    assert main(["--list-voices", "--url", keyed_url]) == 0
    assert main(["--ws", "你好。", "-o", str(output), "--url", keyed_url]) == 0
    monkeypatch.setenv("TTS_API_KEY", "wrong")
    assert main(["--ws", "你好。", "-o", str(output), "--url", keyed_url]) == 1
    assert "HTTP 401 unauthorized" in capsys.readouterr().err


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


def test_ws_mode_streams_text_and_writes_the_audio(
    frontend_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    http, ws = tmp_path / "http.wav", tmp_path / "ws.wav"
    text = LONG[:191]  # ends with 。
    assert main([text, "-o", str(http), "--url", frontend_url]) == 0
    assert main(["--ws", text, "-o", str(ws), "--url", frontend_url]) == 0
    assert "first audio" in capsys.readouterr().err
    # One message of text ending at a sentence mark: the same chunks and samples as a POST.
    assert sf.read(str(ws))[0].tolist() == sf.read(str(http))[0].tolist()
    mulaw = tmp_path / "ws_mulaw.wav"
    assert (
        main(["--ws", "你好。", "-o", str(mulaw), "--url", frontend_url, "--format", "mulaw"]) == 0
    )
    assert sf.info(str(mulaw)).samplerate == 8000
    assert main(["--ws", "你好", "--voice", "nobody", "-o", str(ws), "--url", frontend_url]) == 1
    assert "invalid_parameter: 'voice'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # flac cannot be streamed: refused before connecting
        main(["--ws", "你好", "--format", "flac", "--url", frontend_url])


def test_ws_mode_reads_stdin_as_it_arrives(
    frontend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "第一句话，从管道里来。第二句话。"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))
    assert main(["--ws", "-", "-o", "-", "--url", frontend_url, "--format", "pcm"]) == 0
    samples = np.frombuffer(out.getvalue(), "<i2")
    assert samples.size / 16000 > 100 * len(text) / 16000  # all of it spoken


def test_lexicon_file_is_sent_and_checked(
    frontend_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lexicon, output = tmp_path / "lex.txt", tmp_path / "lex.wav"
    args = ["我姓曾。", "-o", str(output), "--url", frontend_url, "--lexicon", str(lexicon)]
    lexicon.write_text("# surnames\n曾 zeng1\n", encoding="utf-8")
    assert main(args) == 0 and sf.info(str(output)).frames > 0
    lexicon.write_text("曾 zeng9\n", encoding="utf-8")  # no such tone: the server's 400
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "HTTP 400" in err and "zeng9" in err
    lexicon.write_text("曾\n", encoding="utf-8")  # no reading: the client names the line
    assert main(args) == 1
    assert f"{lexicon}:1" in capsys.readouterr().err
