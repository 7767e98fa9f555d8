"""/v1/tts `format` and `sample_rate`: parsing, the 400s that list what is valid, and the
responses (media type, X-Sample-Rate, streaming) through the app with a fake synthesizer."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from audio_decode_helpers import CODEC_SLACK_SAMPLES, pyav_decode, soundfile_decode
from frontend_helpers import SAMPLE_RATE, FakeSynthesizer

from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.encoding import AudioFormat
from frontend.errors import InvalidParameter
from frontend.validation import NATIVE_FORMATS, parse_tts_request

MAX = 100
TEXT = "春天来了，花开了，鸟儿在歌唱。" * 3  # 0.6 s of fake audio in 3 chunks


def run(test: Callable[[TestClient, FakeSynthesizer], Awaitable[Any]], **config: Any) -> Any:
    synth = FakeSynthesizer(delay_s=0.001)
    cfg = FrontendConfig(**{"chunk_max_chars": 20, "max_text_chars": 1000, **config})

    async def main() -> Any:
        async with TestClient(TestServer(create_app(cfg, lambda _cfg: synth))) as client:
            return await test(client, synth)

    return asyncio.run(main())


def test_formats_rates_and_stream_parse() -> None:
    req = parse_tts_request({"text": "你好", "format": "MULAW", "sample_rate": 16000}, MAX)
    assert (req.audio_format, req.sample_rate, req.stream) == (AudioFormat.MULAW, 16000, False)
    req = parse_tts_request({"text": "你好", "format": "mp3", "stream": True}, MAX)
    assert (req.audio_format, req.sample_rate, req.stream) == (AudioFormat.MP3, None, True)
    # The older names stay: ogg (Vorbis) and opus (= ogg_opus).
    assert parse_tts_request({"text": "你好", "format": "ogg"}, MAX).audio_format is AudioFormat.OGG
    assert parse_tts_request({"text": "你好", "format": "opus"}, MAX).audio_format is (
        AudioFormat.OGG_OPUS
    )
    assert parse_tts_request({"text": "你好", "sample_rate": None}, MAX).sample_rate is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sample_rate": 11025}, "supported: 8000, 16000, 22050, 24000, 44100, 48000"),
        ({"sample_rate": "16000"}, "'sample_rate' '16000' is not supported"),
        ({"sample_rate": True}, "'sample_rate' True is not supported"),
        ({"sample_rate": 16000.5}, "'sample_rate' 16000.5 is not supported"),
        (
            {"format": "ogg_opus", "sample_rate": 22050},
            "not supported by ogg_opus; it takes 8000, 16000, 24000, 48000",
        ),
        ({"format": "opus", "sample_rate": 44100}, "not supported by opus"),
        (
            {"format": "flac", "stream": True},
            "streamable: alaw, mp3, mulaw, ogg_opus, opus, pcm, wav",
        ),
        ({"format": "ogg", "stream": True}, "ogg cannot be streamed"),
    ],
)
def test_unsupported_combinations_are_400_listing_the_valid_ones(
    data: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message) as raised:
        parse_tts_request({"text": "你好", **data}, MAX)
    assert raised.value.param in ("sample_rate", "stream")


ROUTE_CASES = [
    ("wav", None, "audio/wav", SAMPLE_RATE),
    ("pcm", 8000, "application/octet-stream", 8000),
    ("flac", 44100, "audio/flac", 44100),
    ("mp3", None, "audio/mpeg", SAMPLE_RATE),
    ("mp3", 48000, "audio/mpeg", 48000),
    ("ogg_opus", None, "audio/ogg; codecs=opus", SAMPLE_RATE),
    ("ogg_opus", 8000, "audio/ogg; codecs=opus", 8000),
    ("mulaw", None, "audio/wav", 8000),
    ("alaw", 22050, "audio/wav", 22050),
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("fmt", "rate", "media", "delivered"), ROUTE_CASES)
def test_each_format_is_served_at_its_rate(
    fmt: str, rate: int | None, media: str, delivered: int, stream: bool
) -> None:
    if stream and not NATIVE_FORMATS[fmt].streamable:
        pytest.skip("not streamable")

    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        body = {"text": TEXT, "format": fmt, "sample_rate": rate, "stream": stream}
        resp = await client.post("/v1/tts", json=body)
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"] == media
        assert int(resp.headers["X-Sample-Rate"]) == delivered
        assert (resp.headers.get("Transfer-Encoding") == "chunked") is stream
        data = await resp.read()
        wav = await client.post("/v1/tts", json={"text": TEXT, "sample_rate": delivered})
        wav_rate, wav_samples, _ = soundfile_decode(await wav.read())
        assert wav_rate == delivered and wav_samples > 0
        if fmt == "pcm":
            assert len(data) == 2 * wav_samples
            return
        got_rate, samples = pyav_decode(data)
        assert got_rate == (48000 if fmt == "ogg_opus" else delivered)
        slack = CODEC_SLACK_SAMPLES["mp3_stream"] / delivered if fmt == "mp3" and stream else 0
        assert samples / got_rate == pytest.approx(wav_samples / delivered, rel=0.01, abs=slack)

    run(test)


def test_opus_at_a_rate_it_lacks_is_400_in_the_native_shape() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(
            "/v1/tts", json={"text": TEXT, "format": "ogg_opus", "sample_rate": 22050}
        )
        assert resp.status == 400
        error = (await resp.json())["error"]
        assert set(error) == {"code", "message", "request_id"}  # native shape unchanged
        assert "8000, 16000, 24000, 48000" in error["message"] and not synth.calls

    run(test)


def test_limits_list_formats_stream_formats_and_rates() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        limits = await (await client.get("/v1/limits")).json()
        assert limits["formats"] == sorted(NATIVE_FORMATS)
        assert limits["stream_formats"] == sorted(
            name for name, fmt in NATIVE_FORMATS.items() if fmt.streamable
        )
        assert "flac" not in limits["stream_formats"] and "mp3" in limits["stream_formats"]
        assert limits["sample_rates"] == [8000, 16000, 22050, 24000, 44100, 48000]
        assert limits["format_sample_rates"]["ogg_opus"] == [8000, 16000, 24000, 48000]
        assert limits["openai_response_formats"] == ["aac", "flac", "mp3", "opus", "pcm", "wav"]
        assert limits["openai_stream_formats"] == ["audio", "sse"]
        assert json.dumps(limits)

    run(test)


def test_streamed_wav_at_another_rate_is_the_whole_file_after_its_header() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        text = "春天来了，花开了，鸟儿在歌唱。" * 4
        body = {"text": text, "sample_rate": 22050}
        whole = await (await client.post("/v1/tts", json=body)).read()
        streamed = await (await client.post("/v1/tts", json={**body, "stream": True})).read()
        assert streamed[44:] == whole[44:] and len(whole) > 44 + 2 * 22050
        assert soundfile_decode(io.BytesIO(whole).getvalue())[0] == 22050

    run(test)
