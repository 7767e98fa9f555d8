"""Request parsing and limits."""

from __future__ import annotations

from typing import Any

import pytest

from frontend.encoding import AudioFormat
from frontend.errors import ApiError, InvalidJson, InvalidParameter, TextTooLong
from frontend.validation import parse_json_object, parse_openai_request, parse_tts_request
from mandarin_tts import contract

MAX = 100


def test_defaults() -> None:
    req = parse_tts_request({"text": "你好"}, MAX)
    assert (req.params.speed, req.params.pitch, req.params.energy) == (1.0, 1.0, 1.0)
    assert (req.volume, req.audio_format, req.stream) == (1.0, AudioFormat.WAV, False)


def test_all_fields() -> None:
    req = parse_tts_request(
        {
            "text": "你好",
            "speed": 1.5,
            "pitch": 0.8,
            "energy": 1.2,
            "volume": 0.5,
            "format": "FLAC",
            "stream": False,
        },
        MAX,
    )
    assert (req.params.speed, req.params.pitch, req.params.energy, req.volume) == (
        1.5,
        0.8,
        1.2,
        0.5,
    )
    assert req.audio_format is AudioFormat.FLAC


BAD_TTS = [
    ({}, InvalidParameter, "'text' is required"),
    ({"text": 5}, InvalidParameter, "must be a string"),
    ({"text": "   "}, InvalidParameter, "empty"),
    ({"text": "好" * (MAX + 1)}, TextTooLong, f"maximum is {MAX}"),
    ({"text": "你好", "speed": contract.SPEED_RANGE[1] + 0.1}, InvalidParameter, "'speed' is"),
    (
        {"text": "你好", "speed": contract.SPEED_RANGE[0] - 0.1},
        InvalidParameter,
        "outside its range",
    ),
    ({"text": "你好", "speed": "fast"}, InvalidParameter, "'speed' must be a number"),
    ({"text": "你好", "speed": True}, InvalidParameter, "'speed' must be a number"),
    ({"text": "你好", "pitch": 3}, InvalidParameter, "'pitch'"),
    ({"text": "你好", "energy": 0}, InvalidParameter, "'energy'"),
    ({"text": "你好", "volume": 2.5}, InvalidParameter, "'volume'"),
    (
        {"text": "你好", "format": "wma"},
        InvalidParameter,
        "supported: alaw, flac, mp3, mulaw, ogg, ogg_opus, opus, pcm, wav",
    ),
    ({"text": "你好", "stream": "yes"}, InvalidParameter, "'stream'"),
    (
        {"text": "你好", "format": "flac", "stream": True},
        InvalidParameter,
        "flac cannot be streamed",
    ),
]


@pytest.mark.parametrize(("data", "error", "message"), BAD_TTS)
def test_bad_tts_requests(data: dict, error: type[ApiError], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_tts_request(data, MAX)


def test_openai_request_mapping() -> None:
    req = parse_openai_request(
        {
            "model": "tts-1",
            "input": "你好",
            "voice": "alloy",
            "response_format": "opus",
            "speed": 1.25,
        },
        MAX,
    )
    assert req.audio_format is AudioFormat.OPUS and req.params.speed == 1.25 and req.text == "你好"
    assert parse_openai_request({"input": "你好"}, MAX).audio_format is AudioFormat.MP3
    assert (
        parse_openai_request({"input": "你好", "response_format": "pcm"}, MAX).audio_format
        is AudioFormat.PCM
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"input": "你好", "response_format": "wma"}, "supported: aac, flac, mp3, opus, pcm, wav"),
        ({"input": "你好", "response_format": "ogg"}, "'response_format' 'ogg' is not supported"),
        ({"input": "你好", "speed": 4.5}, "'speed' is 4.5"),
        ({"text": "你好"}, "'input' is required"),
        ({"input": "你好", "voice": 3}, "'voice' must be a string"),
    ],
)
def test_bad_openai_requests(data: dict, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        parse_openai_request(data, MAX)


@pytest.mark.parametrize("body", [b"{", b"[1, 2]", b"\xff\xfe", b'"text"'])
def test_bad_json(body: bytes) -> None:
    with pytest.raises(InvalidJson):
        parse_json_object(body)


def test_voice_speaker_emotion_fields() -> None:
    req = parse_tts_request(
        {"text": "你好", "voice": "aishu", "speaker": "M1", "emotion": "sad"}, MAX
    )
    assert (req.voice, req.speaker, req.emotion, req.openai_voice) == ("aishu", "M1", "sad", False)
    req = parse_tts_request({"text": "你好", "voice": None, "speaker": None}, MAX)
    assert (req.voice, req.speaker, req.emotion) == (None, None, None)  # null = the default
    speech = parse_openai_request({"input": "你好", "voice": "alloy"}, MAX)
    assert speech.voice == "alloy" and speech.openai_voice


@pytest.mark.parametrize(
    ("parse", "data", "message"),
    [
        (parse_tts_request, {"text": "你好", "voice": 1}, "'voice' must be a string"),
        (parse_tts_request, {"text": "你好", "speaker": ["a"]}, "'speaker' must be a string"),
        (parse_tts_request, {"text": "你好", "emotion": {}}, "'emotion' must be a string"),
        (parse_tts_request, {"text": "你好", "voice": "v" * 65}, "at most 64"),
        (parse_tts_request, {"text": "你好", "speaker": ""}, "'speaker' is empty"),
        (parse_openai_request, {"input": "你好", "voice": ""}, "'voice' is empty"),
        (parse_openai_request, {"input": "你好", "voice": None}, "'voice' must be a string"),
        (parse_openai_request, {"input": "你好", "speaker": 3}, "'speaker' must be a string"),
    ],
)
def test_bad_voice_fields(parse: Any, data: dict, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message) as raised:
        parse(data, MAX)
    assert "v" * 65 not in raised.value.message  # a long value is not echoed back
