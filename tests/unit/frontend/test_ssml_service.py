"""SSML and lexicons through the HTTP app with a fake synthesizer: what each chunk is sent
with, and the assembled audio (pauses, gains)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import soundfile as sf
from aiohttp.test_utils import TestClient, TestServer
from frontend_helpers import SAMPLE_RATE, FakeSynthesizer

from frontend.app import create_app
from frontend.config import FrontendConfig
from mandarin_tts.text.inline import Span, split_inline


def run(test: Callable[[TestClient, FakeSynthesizer], Awaitable[Any]]) -> Any:
    synth = FakeSynthesizer(0.001)
    cfg = FrontendConfig(chunk_max_chars=20, max_text_chars=1000)

    async def main() -> Any:
        app = create_app(cfg, lambda _cfg: synth)
        async with TestClient(TestServer(app)) as client:
            return await test(client, synth)

    return asyncio.run(main())


def decode(body: bytes) -> np.ndarray:
    data, rate = sf.read(io.BytesIO(body), dtype="float32")
    assert rate == SAMPLE_RATE
    return np.asarray(data)


def silences_s(audio: np.ndarray, window_s: float = 0.005) -> list[float]:
    """Lengths of the quiet stretches (RMS below 0.01 in 5 ms windows), in seconds."""
    n = int(window_s * SAMPLE_RATE)
    frames = audio[: audio.size // n * n].reshape(-1, n)
    quiet = np.sqrt((frames**2).mean(axis=1)) < 0.01
    runs, current = [], 0
    for q in quiet:
        current = current + 1 if q else 0
        if current == 1:
            runs.append(0)
        if q:
            runs[-1] = current
    return [r * window_s for r in runs]


def spans_sent(synth: FakeSynthesizer) -> list[Span]:
    return [p for text, _ in synth.calls for p in split_inline(text) if isinstance(p, Span)]


def test_a_500_ms_break_gives_at_least_480_ms_of_silence_there() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        doc = "<speak>你好<break time='500ms'/>世界</speak>"
        resp = await client.post("/v1/tts", json={"text": doc})
        assert resp.status == 200, await resp.text()
        assert [t for t, _ in synth.calls] == ["你好", "世界"]
        gaps = silences_s(decode(await resp.read()))
        assert max(gaps) >= 0.48 and max(gaps) < 0.6

    run(test)


def test_a_break_replaces_the_punctuation_pause_and_none_removes_it() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        for time, low, high in (("1s", 0.98, 1.1), ("0ms", 0.0, 0.1)):
            doc = f"<speak>你好。<break time='{time}'/>世界。</speak>"
            audio = decode(await (await client.post("/v1/tts", json={"ssml": doc})).read())
            gap = max(silences_s(audio), default=0.0)
            assert low <= gap <= high, (time, gap)

    run(test)


def test_prosody_rate_changes_only_its_own_chunks() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        doc = "<speak>今天<prosody rate='slow'>天气很好</prosody>我们出去</speak>"
        resp = await client.post("/v1/tts", json={"ssml": doc, "speed": 1.2})
        assert resp.status == 200
        sent = [(t, round(p.speed, 3)) for t, p in synth.calls]
        assert sent == [("今天", 1.2), ("天气很好", 0.96), ("我们出去", 1.2)]
        # Mid-sentence segment joins have no pause: only the chunks' own kept edges.
        assert max(silences_s(decode(await resp.read())), default=0.0) < 0.1

    run(test)


def test_prosody_volume_scales_its_span() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        doc = "<speak>大声音<break time='200ms'/><prosody volume='x-soft'>小声音</prosody></speak>"
        audio = decode(await (await client.post("/v1/tts", json={"ssml": doc})).read())
        half = audio.size // 2
        assert np.abs(audio[:half]).max() > 0.7 and np.abs(audio[-half // 2 :]).max() < 0.3

    run(test)


def test_phoneme_and_lexicon_reach_the_model_as_spans_with_precedence() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        doc = "<speak><phoneme ph='ceng2'>曾</phoneme>经，曾先生</speak>"
        body = {"ssml": doc, "lexicon": {"曾": "zeng1", "先生": "xian1 sheng1"}}
        resp = await client.post("/v1/tts", json=body)
        assert resp.status == 200, await resp.text()
        spans = [(s.chars, s.syllables) for s in spans_sent(synth)]
        assert spans == [("曾", ("ceng2",)), ("曾", ("zeng1",)), ("先生", ("xian1", "sheng1"))]

    run(test)


def test_a_plain_text_lexicon_applies_and_user_markers_are_stripped() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        text = "我姓曾\ue000。"  # a user's private-use character must not become markup
        resp = await client.post("/v1/tts", json={"text": text, "lexicon": {"曾": "zeng1"}})
        assert resp.status == 200, await resp.text()
        assert [(s.chars, s.syllables) for s in spans_sent(synth)] == [("曾", ("zeng1",))]
        assert all(
            "\ue000" not in p for t, _ in synth.calls for p in split_inline(t) if isinstance(p, str)
        )

    run(test)


def test_bad_requests_are_400_with_what_to_fix() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        cases = [
            ({"ssml": "<speak>a<b</speak>"}, "invalid_ssml", "line 1, column"),
            ({"text": "<speak><voice>x</voice></speak>"}, "invalid_ssml", "<voice>"),
            ({"text": "你好", "ssml": "<speak>a</speak>"}, "invalid_parameter", "not both"),
            ({"text": "你好", "lexicon": {"曾": "zeng1 xian1"}}, "invalid_parameter", "'曾'"),
            ({"text": "你好", "lexicon": ["曾"]}, "invalid_parameter", "must be an object"),
            (
                {"text": "你好", "lexicon": {f"词{i}": "ci2 ci2" for i in range(101)}},
                "invalid_parameter",
                "at most 100",
            ),
            ({"ssml": "<speak><break/></speak>"}, "invalid_parameter", "nothing to speak"),
        ]
        for body, code, words in cases:
            resp = await client.post("/v1/tts", json=body)
            error = (await resp.json())["error"]
            assert resp.status == 400 and error["code"] == code, (body, error)
            assert words in error["message"], (body, error)
        assert synth.calls == []

    run(test)


def test_limits_list_ssml_and_lexicon() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        limits = await (await client.get("/v1/limits")).json()
        assert "phoneme" in limits["ssml"]["elements"] and limits["ssml"]["max_depth"] == 32
        assert "telephone" in limits["ssml"]["say_as"]
        assert limits["lexicon"]["max_entries"] == 100

    run(test)


def test_pause_ms_replaces_the_punctuation_pause_even_after_the_last_chunk() -> None:
    from frontend.assembly import Assembler
    from frontend.chunking import Pause

    assembler = Assembler(SAMPLE_RATE)
    audio = np.ones(1000, np.float32) * 0.5
    plain = assembler.piece(audio, Pause.SENTENCE, is_last=False)
    explicit = assembler.piece(audio, Pause.SENTENCE, is_last=False, pause_ms=500.0)
    last = assembler.piece(audio, Pause.SENTENCE, is_last=True, pause_ms=250.0)
    body = assembler.piece(audio, Pause.SENTENCE, is_last=True).size
    assert plain.size - body == round(0.45 * SAMPLE_RATE)
    assert explicit.size - body == round(0.5 * SAMPLE_RATE)
    assert last.size - body == round(0.25 * SAMPLE_RATE)


def test_chunk_prosody_multiplies_and_is_clamped() -> None:
    from frontend.prosody import Prosody
    from frontend.synthesis import VoiceParams, with_prosody

    params = VoiceParams(speed=1.5, pitch=1.2)
    assert with_prosody(params, Prosody()) is params
    scaled = with_prosody(params, Prosody(speed=0.5, pitch=1.1, volume=2.0))
    assert (scaled.speed, round(scaled.pitch, 3)) == (0.75, 1.32)
    assert with_prosody(params, Prosody(speed=2.0)).speed == 2.0  # 3.0 clamped


def test_a_break_before_any_text_is_leading_silence() -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        plain = await client.post("/v1/tts", json={"ssml": "<speak>你好</speak>"})
        led = await client.post(
            "/v1/tts", json={"ssml": "<speak><break time='400ms'/>你好</speak>"}
        )
        assert plain.status == led.status == 200, await led.text()
        before, after = decode(await plain.read()), decode(await led.read())
        lead = round(0.4 * SAMPLE_RATE)
        assert after.size == before.size + lead
        assert not np.any(after[:lead]) and np.allclose(after[lead:], before, atol=1e-4)

    run(test)
