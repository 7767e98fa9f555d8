"""Every /v1/tts format and sample rate against the real service (Triton + the frontend as its
own process): decoded by two independent decoders (soundfile/libsndfile and PyAV/FFmpeg) at
the requested rate, with the duration within 1 % of the WAV of the same request."""

from __future__ import annotations

import io
import json
import time
import urllib.request
from typing import Any

import pytest
import soundfile as sf
from audio_decode_helpers import CODEC_SLACK_SAMPLES, pyav_decode, soundfile_decode
from frontend_process_helpers import FrontendProcess

from frontend.encoding import SAMPLE_RATES
from frontend.validation import NATIVE_FORMATS

pytestmark = pytest.mark.integration

# About 10 s of speech in 3 chunks; after the first request Triton's response cache answers the
# same chunks at once, so the 40 requests below cost mostly encoding.
TEXT = "今天天气很好，我们一起去公园散步。晚上回家做饭，图书馆里很安静。欢迎使用语音合成服务。"
FORMATS = ["wav", "pcm", "flac", "mp3", "ogg_opus", "mulaw", "alaw", "ogg"]
MEDIA = {
    "wav": "audio/wav",
    "pcm": "application/octet-stream",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "ogg_opus": "audio/ogg; codecs=opus",
    "mulaw": "audio/wav",
    "alaw": "audio/wav",
    "ogg": "audio/ogg",
}


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wav_seconds(frontend: FrontendProcess, rate: int) -> float:
    status, _, body = post(frontend.url + "/v1/tts", {"text": TEXT, "sample_rate": rate})
    assert status == 200
    got_rate, samples, subtype = soundfile_decode(body)
    assert (got_rate, subtype) == (rate, "PCM_16")
    return samples / rate


def decoded_seconds(fmt: str, rate: int, body: bytes) -> dict[str, float]:
    """Seconds of audio per decoder (each also checked for the rate)."""
    if fmt == "pcm":
        return {"raw": len(body) / 2 / rate}
    seconds = {}
    sf_rate, sf_samples, _ = soundfile_decode(body)
    assert sf_rate == rate, (fmt, rate, sf_rate)
    seconds["soundfile"] = sf_samples / sf_rate
    av_rate, av_samples = pyav_decode(body)
    assert av_rate == (48_000 if fmt == "ogg_opus" else rate), (fmt, rate, av_rate)
    seconds["pyav"] = av_samples / av_rate
    return seconds


def test_every_format_and_rate_decodes_at_its_rate_and_length(frontend: FrontendProcess) -> None:
    reference = {rate: wav_seconds(frontend, rate) for rate in SAMPLE_RATES}
    assert reference[16_000] > 5.0
    print(f"\nWAV durations: {reference}")
    failures = []
    for fmt in FORMATS:
        for rate in NATIVE_FORMATS[fmt].rates:
            status, headers, body = post(
                frontend.url + "/v1/tts", {"text": TEXT, "format": fmt, "sample_rate": rate}
            )
            assert status == 200, body[:300]
            assert headers["Content-Type"] == MEDIA[fmt] and int(headers["X-Sample-Rate"]) == rate
            for decoder, seconds in decoded_seconds(fmt, rate, body).items():
                error = abs(seconds - reference[rate]) / reference[rate]
                print(f"{fmt:8} {rate:6} {decoder:9} {seconds:.4f} s  ({100 * error:.3f} %)")
                if error > 0.01:
                    failures.append((fmt, rate, decoder, seconds, reference[rate]))
    assert not failures


@pytest.mark.parametrize("rate", [8_000, 24_000, 48_000])
def test_streamed_formats_start_early_and_decode(frontend: FrontendProcess, rate: int) -> None:
    reference = wav_seconds(frontend, rate)
    for fmt in [f for f in FORMATS if NATIVE_FORMATS[f].streamable]:
        if rate not in NATIVE_FORMATS[fmt].rates:
            continue
        body = {"text": TEXT, "format": fmt, "sample_rate": rate, "stream": True}
        request = urllib.request.Request(
            frontend.url + "/v1/tts",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
            method="POST",
        )
        start = time.monotonic()
        with urllib.request.urlopen(request, timeout=600) as response:
            assert response.headers["Transfer-Encoding"] == "chunked"
            assert int(response.headers["X-Sample-Rate"]) == rate
            data = response.read()
        assert data, fmt
        slack = CODEC_SLACK_SAMPLES["mp3_stream"] / rate if fmt == "mp3" else 0.0
        for decoder, seconds in decoded_seconds(fmt, rate, data).items():
            print(f"stream {fmt:8} {rate:6} {decoder:9} {seconds:.4f} s vs WAV {reference:.4f} s")
            assert abs(seconds - reference) <= 0.01 * reference + slack, (fmt, decoder)
        assert time.monotonic() - start < 120


def test_mulaw_at_8_khz_is_a_mulaw_wav_file(frontend: FrontendProcess) -> None:
    status, headers, body = post(
        frontend.url + "/v1/tts", {"text": "您好，请问有什么可以帮您？", "format": "mulaw"}
    )
    assert status == 200 and headers["X-Sample-Rate"] == "8000"
    info = sf.info(io.BytesIO(body))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "ULAW", 8000, 1)
    status, _, body = post(frontend.url + "/v1/tts", {"text": "您好。", "format": "alaw"})
    assert status == 200 and sf.info(io.BytesIO(body)).subtype == "ALAW"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"format": "ogg_opus", "sample_rate": 22050}, ["8000, 16000, 24000, 48000"]),
        ({"format": "flac", "stream": True}, ["flac cannot be streamed", "mp3", "wav"]),
        ({"sample_rate": 11025}, ["8000, 16000, 22050, 24000, 44100, 48000"]),
        ({"format": "wma"}, ["mulaw", "ogg_opus"]),
    ],
)
def test_unsupported_combinations_are_400_listing_the_valid_ones(
    frontend: FrontendProcess, body: dict[str, Any], words: list[str]
) -> None:
    status, _, answer = post(frontend.url + "/v1/tts", {"text": "你好。", **body})
    assert status == 400
    error = json.loads(answer)["error"]
    assert error["code"] == "invalid_parameter"
    for word in words:
        assert word in error["message"], error["message"]
