"""Timestamps through the real service (frontend process + real tritonserver, bundled
voice): monotone, covering the speech, and every silence in the returned audio falls
between the characters the timestamps say, within 30 ms."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from frontend_process_helpers import FrontendProcess

pytestmark = pytest.mark.integration

WINDOW_S = 0.01
SILENCE_DBFS = -50.0
MIN_SILENCE_S = 0.15
TOLERANCE_S = 0.03

SENTENCES = [
    "您好，欢迎致电客服中心。",
    "<speak>你好<break time='500ms'/>世界</speak>",
    "今天天气很好，我们去公园散步吧。明天见！",
    "<speak>请稍等<break time='800ms'/>正在为您转接，谢谢。</speak>",
    "<speak><prosody rate='slow'>慢慢地说</prosody>，然后正常说话。</speak>",
    "GPU的价格是3.5元，对吗？",
]


def post(url: str, body: dict[str, Any]) -> tuple[int, bytes]:
    data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url + "/v1/tts", data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def timed(frontend: FrontendProcess, **body: Any) -> tuple[dict[str, Any], np.ndarray, int]:
    status, raw = post(frontend.url, {"timestamps": True, **body})
    assert status == 200, raw[:300]
    answer = json.loads(raw)
    audio, rate = sf.read(io.BytesIO(base64.b64decode(answer["audio"])), dtype="float32")
    return answer, np.asarray(audio), int(rate)


def quiet_windows(audio: np.ndarray, rate: int) -> np.ndarray:
    n = int(WINDOW_S * rate)
    frames = audio[: audio.size // n * n].reshape(-1, n).astype(np.float64)
    return np.sqrt((frames**2).mean(axis=1)) < 10 ** (SILENCE_DBFS / 20)


def silences(quiet: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) in seconds of quiet stretches of at least MIN_SILENCE_S."""
    found, start = [], None
    for i, q in enumerate([*quiet, False]):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) * WINDOW_S >= MIN_SILENCE_S:
                found.append((start * WINDOW_S, i * WINDOW_S))
            start = None
    return found


@pytest.mark.parametrize("text", SENTENCES)
def test_timestamps_agree_with_the_audio(frontend: FrontendProcess, text: str) -> None:
    answer, audio, rate = timed(frontend, text=text)
    segments = answer["segments"]
    assert answer["format"] == "wav" and answer["sample_rate"] == rate
    assert answer["duration"] == pytest.approx(audio.size / rate, abs=0.002)
    assert segments and all(s["text"] and s["pinyin"] for s in segments)
    # Monotone: each character within its bounds, none before the previous one ends.
    for a, b in zip(segments, segments[1:], strict=False):
        assert a["start"] <= a["end"] <= b["start"] <= b["end"], (a, b)
    quiet = quiet_windows(audio, rate)
    loud = np.flatnonzero(~quiet)
    speech_start, speech_end = loud[0] * WINDOW_S, (loud[-1] + 1) * WINDOW_S
    # Covering the speech: from its first sound to its last. A first nasal or affricate
    # initial starts quietly (up to 70 ms below -50 dBFS seen); the final vowel decays into
    # the model's closing silence, which no character owns (< 0.3 s).
    assert abs(segments[0]["start"] - speech_start) <= 0.08, (segments[0], speech_start)
    assert -0.05 <= speech_end - segments[-1]["end"] <= 0.3, (segments[-1], speech_end)
    assert segments[-1]["end"] <= answer["duration"]
    # Every inner silence lies in a gap between two consecutive characters.
    inner = [(a, b) for a, b in silences(quiet) if a > speech_start and b < speech_end]
    for start, end in inner:
        between = any(
            x["end"] - TOLERANCE_S <= start and y["start"] + TOLERANCE_S >= end
            for x, y in zip(segments, segments[1:], strict=False)
        )
        assert between, (text, (start, end), segments)


def test_a_break_is_a_gap_between_its_characters(frontend: FrontendProcess) -> None:
    answer, _, _ = timed(frontend, text="<speak>你好<break time='500ms'/>世界</speak>")
    texts = [s["text"] for s in answer["segments"]]
    assert texts == ["你", "好", "世", "界"]
    hao, shi = answer["segments"][1], answer["segments"][2]
    assert shi["start"] - hao["end"] >= 0.48


def test_times_do_not_depend_on_the_delivered_rate_or_format(frontend: FrontendProcess) -> None:
    text = "您好，欢迎致电客服中心。"
    wav, _, _ = timed(frontend, text=text)
    mp3, _, _ = timed(frontend, text=text, format="mp3", sample_rate=24000)
    assert mp3["sample_rate"] == 24000 and mp3["format"] == "mp3"
    assert [s["start"] for s in mp3["segments"]] == [s["start"] for s in wav["segments"]]


def test_pinyin_is_what_the_model_was_sent(frontend: FrontendProcess) -> None:
    answer, _, _ = timed(frontend, text="曾先生", lexicon={"曾": "zeng1"})
    assert answer["segments"][0]["pinyin"] == "zeng1"


def test_subtitles_are_sentence_cues(frontend: FrontendProcess) -> None:
    status, raw = post(frontend.url, {"text": "今天天气很好。明天见！", "subtitles": "srt"})
    assert status == 200, raw[:300]
    answer = json.loads(raw)
    assert [s["text"] for s in answer["sentences"]] == ["今天天气很好。", "明天见！"]
    srt = answer["subtitles"]
    assert srt.startswith("1\n00:00:") and "\n\n2\n" in srt and "明天见！" in srt
    status, raw = post(frontend.url, {"text": "今天天气很好。", "subtitles": "vtt"})
    assert json.loads(raw)["subtitles"].startswith("WEBVTT\n\n")


def test_streaming_timestamps_are_refused(frontend: FrontendProcess) -> None:
    status, raw = post(frontend.url, {"text": "你好", "timestamps": True, "stream": True})
    assert status == 400
    assert "not supported with streaming" in json.loads(raw)["error"]["message"]


def test_the_client_writes_timings_and_subtitles(frontend: FrontendProcess, tmp_path) -> None:
    from client.__main__ import main

    out, timings, srt = tmp_path / "a.wav", tmp_path / "t.json", tmp_path / "s.srt"
    args = ["你好。再见！", "--url", frontend.url, "-o", str(out), "--no-progress"]
    assert main([*args, "--timestamps", str(timings), "--subtitles", str(srt)]) == 0
    answer = json.loads(timings.read_text("utf-8"))
    assert [s["text"] for s in answer["segments"]] == ["你", "好", "再", "见"]
    assert "audio" not in answer and sf.info(str(out)).duration == pytest.approx(
        answer["duration"], abs=0.01
    )
    assert srt.read_text("utf-8").startswith("1\n")
