"""SSML and lexicons through the real service: the HTTP frontend as its own process in front
of a real tritonserver (conftest.py fixtures), the bundled voice."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import tritonclient.grpc as grpcclient
from frontend_process_helpers import FrontendProcess
from serving_helpers import EMPTY_LEXICON, grpc_text_inputs

from mandarin_tts import contract as c
from mandarin_tts.text.inline import CLOSE, OPEN, SEP

pytestmark = pytest.mark.integration

WINDOW_S = 0.01


def post(url: str, body: dict[str, Any], timeout: float = 300) -> tuple[int, bytes, float]:
    data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url + "/v1/tts", data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), time.perf_counter() - start
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.perf_counter() - start


def speak(frontend: FrontendProcess, **body: Any) -> tuple[np.ndarray, int]:
    status, raw, _ = post(frontend.url, body)
    assert status == 200, raw[:300]
    audio, rate = sf.read(io.BytesIO(raw), dtype="float32")
    return np.asarray(audio), int(rate)


def silences(audio: np.ndarray, rate: int, min_s: float) -> list[tuple[float, float]]:
    """(start, length) in seconds of the stretches quieter than -50 dBFS (RMS over 10 ms)
    lasting at least `min_s`."""
    n = int(WINDOW_S * rate)
    frames = audio[: audio.size // n * n].reshape(-1, n)
    quiet = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) < 10 ** (-50 / 20)
    found, start = [], None
    for i, q in enumerate([*quiet, False]):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) * WINDOW_S >= min_s:
                found.append((start * WINDOW_S, (i - start) * WINDOW_S))
            start = None
    return found


def parts_between_breaks(audio: np.ndarray, rate: int) -> list[float]:
    """Durations of the speech between the long (>= 0.5 s) silences."""
    gaps = silences(audio, rate, 0.5)
    edges = [0.0] + [x for s, d in gaps for x in (s, s + d)] + [audio.size / rate]
    return [edges[i + 1] - edges[i] for i in range(0, len(edges), 2)]


def test_a_500_ms_break_gives_at_least_480_ms_of_silence_at_that_point(frontend) -> None:
    first, rate = speak(frontend, text="今天天气很好")
    audio, _ = speak(frontend, text="<speak>今天天气很好<break time='500ms'/>我们出去散步</speak>")
    long_gaps = silences(audio, rate, 0.3)
    assert len(long_gaps) == 1, long_gaps
    start, length = long_gaps[0]
    assert length >= 0.48, long_gaps
    print(f"\n500 ms break: {length:.3f} s of silence starting at {start:.3f} s")
    # At that point: the audio before it is the first part exactly as it sounds alone (the
    # assembly trims and fades it the same), and the silence starts where that speech ends
    # (the part's own quiet tail, up to 250 ms, counts towards the break).
    assert np.allclose(audio[: first.size], first, atol=2e-3)
    speech_end = (np.flatnonzero(np.abs(first) >= 0.01)[-1] + 1) / rate
    assert speech_end - 0.05 < start <= first.size / rate + 0.05, (start, speech_end)


def test_prosody_rate_changes_the_duration_of_its_span_only(frontend) -> None:
    plain = (
        "<speak>今天天气很好<break time='700ms'/>我们出去散步<break time='700ms'/>晚上回家</speak>"
    )
    slow = plain.replace("我们出去散步", "<prosody rate='x-slow'>我们出去散步</prosody>")
    normal_parts = parts_between_breaks(*speak(frontend, ssml=plain))
    slow_parts = parts_between_breaks(*speak(frontend, ssml=slow))
    assert len(normal_parts) == len(slow_parts) == 3, (normal_parts, slow_parts)
    assert slow_parts[1] > 1.3 * normal_parts[1], (normal_parts, slow_parts)
    print(f"\nparts (s) normal {normal_parts} x-slow middle {slow_parts}")
    for i in (0, 2):
        assert slow_parts[i] == pytest.approx(normal_parts[i], rel=0.05, abs=0.03)


@pytest.mark.parametrize(
    ("ssml", "text"),
    [
        ("<speak><say-as interpret-as='telephone'>110</say-as></speak>", "幺幺零"),
        ("<speak><say-as interpret-as='cardinal'>1234</say-as></speak>", "一千二百三十四"),
        ("<speak><say-as interpret-as='ordinal'>3</say-as>名</speak>", "第三名"),
        ("<speak><say-as interpret-as='digits'>2024</say-as></speak>", "二零二四"),
        (
            "<speak><say-as interpret-as='date' format='ymd'>2024-3-5</say-as></speak>",
            "二零二四年三月五日",
        ),
        ("<speak><say-as interpret-as='time'>9:30</say-as></speak>", "九点三十分"),
        ("<speak><say-as interpret-as='currency'>¥12.5</say-as></speak>", "十二元五角"),
        ("<speak><sub alias='世界卫生组织'>WHO</sub></speak>", "世界卫生组织"),
        ("<speak><p><s>你好</s></p></speak>", "你好。"),
    ],
)
def test_elements_read_as_their_plain_text_equivalent(frontend, ssml: str, text: str) -> None:
    via_ssml, _ = speak(frontend, ssml=ssml)
    via_text, _ = speak(frontend, text=text)
    assert via_ssml.size == via_text.size and np.allclose(via_ssml, via_text, atol=1e-3)


def test_emphasis_is_slower_and_louder(frontend) -> None:
    plain, _ = speak(frontend, text="这件事很重要")
    emphasized, _ = speak(
        frontend, ssml="<speak><emphasis level='strong'>这件事很重要</emphasis></speak>"
    )
    assert emphasized.size > 1.1 * plain.size
    assert np.sqrt((emphasized**2).mean()) > 1.1 * np.sqrt((plain**2).mean())


def test_phoneme_and_lexicon_change_what_the_model_is_sent(frontend, triton_server) -> None:
    # The symbols: the text model's DEBUG output for the markup both produce.
    with grpcclient.InferenceServerClient(triton_server.grpc_url) as client:
        plain = client.infer(c.MODEL_TEXT_FRONTEND, grpc_text_inputs("我姓曾"), client_timeout=60)
        marked = client.infer(
            c.MODEL_TEXT_FRONTEND,
            grpc_text_inputs(f"我姓{OPEN}曾{SEP}zeng1{CLOSE}"),
            client_timeout=60,
        )
    plain_symbols = plain.as_numpy(c.TF_OUT_DEBUG).reshape(-1)[1].decode()
    marked_symbols = marked.as_numpy(c.TF_OUT_DEBUG).reshape(-1)[1].decode()
    assert "c eng2" in plain_symbols and "z eng1" in marked_symbols
    assert "c eng2" not in marked_symbols
    # The audio: phoneme and a per-request lexicon give the same, and not G2P's reading.
    g2p, _ = speak(frontend, text="我姓曾")
    phoneme, _ = speak(
        frontend, ssml="<speak>我姓<phoneme alphabet='py' ph='zeng1'>曾</phoneme></speak>"
    )
    lexicon, _ = speak(frontend, text="我姓曾", lexicon={"曾": "zeng1"})
    assert phoneme.size == lexicon.size and np.allclose(phoneme, lexicon, atol=1e-3)
    assert phoneme.size != g2p.size or not np.allclose(phoneme, g2p, atol=1e-3)
    # SSML phoneme wins over the request's lexicon.
    both, _ = speak(
        frontend,
        ssml="<speak>我姓<phoneme ph='zeng1'>曾</phoneme></speak>",
        lexicon={"曾": "ceng2"},
    )
    assert both.size == phoneme.size and np.allclose(both, phoneme, atol=1e-3)


def _symbols(triton_server, text: str) -> str:
    with grpcclient.InferenceServerClient(triton_server.grpc_url) as client:
        result = client.infer(c.MODEL_TEXT_FRONTEND, grpc_text_inputs(text), client_timeout=60)
    return str(result.as_numpy(c.TF_OUT_DEBUG).reshape(-1)[1].decode())


def _wait_for_symbols(triton_server, text: str, wanted: str, timeout_s: float = 10.0) -> str:
    """The text model's symbols once they contain `wanted` (the file is re-read at most once
    a second), or the last ones seen."""
    deadline = time.monotonic() + timeout_s
    symbols = _symbols(triton_server, text)
    while wanted not in symbols and time.monotonic() < deadline:
        time.sleep(0.3)
        symbols = _symbols(triton_server, text)
    return symbols


def test_the_deployment_lexicon_file_is_loaded_and_reloaded_by_the_server(
    frontend, triton_server
) -> None:
    path = triton_server.lexicon_path
    assert path is not None
    assert "c eng2" in _symbols(triton_server, "我姓曾")  # G2P's reading, no entry yet
    before, _ = speak(frontend, text="我姓曾")  # (now in Triton's response cache)
    try:
        path.write_text(EMPTY_LEXICON + "曾\tzeng1  # the surname\n", encoding="utf-8")
        assert "z eng1" in _wait_for_symbols(triton_server, "我姓曾", "z eng1")
        # Through the service: the new reading, not the cached audio of the old one; the
        # request's own lexicon still wins over the file.
        after, _ = speak(frontend, text="我姓曾")
        assert after.size != before.size or not np.allclose(after, before, atol=1e-3)
        request, _ = speak(frontend, text="我姓曾", lexicon={"曾": "ceng2"})
        assert request.size == before.size and np.allclose(request, before, atol=1e-3)
        # A bad line is skipped (and logged with its number); the good ones still apply.
        path.write_text("曾 zeng1\n曾先生 not-pinyin\n", encoding="utf-8")
        time.sleep(1.5)
        assert "z eng1" in _symbols(triton_server, "我姓曾")
    finally:
        path.write_text(EMPTY_LEXICON, encoding="utf-8")
    assert "c eng2" in _wait_for_symbols(triton_server, "我姓曾", "c eng2")


def test_a_count_mismatch_and_bad_markup_are_400_naming_the_place(frontend) -> None:
    cases = [
        ("<speak>\n<phoneme ph='zeng1 xian1'>曾</phoneme></speak>", "line 2, column 1"),
        ("<speak><foo>x</foo></speak>", "unsupported element <foo> at line 1, column 8"),
        ("<speak>你好<break time='500ms'></speak>", "not well-formed XML"),
    ]
    for doc, words in cases:
        status, raw, _ = post(frontend.url, {"text": doc})
        error = json.loads(raw)["error"]
        assert status == 400 and error["code"] == "invalid_ssml" and words in error["message"]


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]><speak>&lol9;</speak>"
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><speak>&x;</speak>'
)
DEEP = "<speak>" + "<s>" * 100_000 + "深" + "</s>" * 100_000 + "</speak>"


def test_hostile_documents_get_400_within_100_ms(large_body_frontend) -> None:
    speak(large_body_frontend, text="你好")  # warm: the first request loads nothing more
    for doc in (BILLION_LAUGHS, EXTERNAL, DEEP, "<speak>" + "<p>" * 5_000 + "</speak>"):
        timings = []
        for _ in range(3):
            status, raw, seconds = post(large_body_frontend.url, {"ssml": doc})
            assert status == 400, raw[:200]
            assert json.loads(raw)["error"]["code"] == "invalid_ssml"
            timings.append(seconds)
        assert min(timings) < 0.1, (doc[:40], timings)
        print(f"\n{doc[:30]!r} ({len(doc)} chars): 400 in {min(timings) * 1000:.1f} ms")
