"""Voices as data in the HTTP frontend: the catalogue from the installed manifests, the
voice/speaker/emotion fields, GET /v1/voices, per-voice sample rates."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from aiohttp.test_utils import TestClient, TestServer
from frontend_helpers import FakeSynthesizer, catalogue_with_voices, install_voices

from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.errors import InvalidParameter
from frontend.synthesis import VoiceParams
from frontend.voices import BUILTIN_VOICE, CatalogueError, VoiceCatalogue
from mandarin_tts.voices.manifest import MANIFEST_FILE


def run(
    test: Callable[[TestClient, FakeSynthesizer], Awaitable[Any]],
    catalogue: VoiceCatalogue,
    **config: Any,
) -> Any:
    synth = FakeSynthesizer(delay_s=0.001)
    cfg = FrontendConfig(**{"chunk_max_chars": 20, "max_text_chars": 1000, **config})

    async def main() -> Any:
        app = create_app(cfg, lambda _cfg: synth, catalogue=catalogue)
        async with TestClient(TestServer(app)) as client:
            return await test(client, synth)

    return asyncio.run(main())


@pytest.fixture
def two_voices(tmp_path: Path) -> VoiceCatalogue:
    return catalogue_with_voices(tmp_path)


# ---------------------------------------------------------------- the catalogue


def test_installed_manifests_bundled_voice_first_and_default(two_voices: VoiceCatalogue) -> None:
    assert two_voices.names == ["baker", "aishu"] and two_voices.default == "baker"
    assert two_voices.sample_rates() == {"baker": 16000, "aishu": 24000}
    assert two_voices.all_speakers() == ["F7", "M1", "baker"]


def test_without_the_bundled_voice_the_first_is_the_default(tmp_path: Path) -> None:
    assert catalogue_with_voices(tmp_path, bundled=False).default == "aishu"


def test_default_voice_option(tmp_path: Path) -> None:
    assert catalogue_with_voices(tmp_path, default="aishu").default == "aishu"
    with pytest.raises(CatalogueError, match="'nope' is not installed; installed: baker, aishu"):
        VoiceCatalogue.load(tmp_path / "models", tmp_path / "voices", "nope")


def test_no_manifest_at_all_serves_the_built_in_bundled_voice(tmp_path: Path) -> None:
    catalogue = VoiceCatalogue.load(tmp_path / "none", tmp_path / "none-either")
    assert catalogue.names == ["baker"] and catalogue.default == "baker"
    baker = catalogue.voices["baker"]
    assert baker.sample_rate == 16000 and baker.speakers == ("baker",)
    assert baker.emotions == ("neutral",) and baker.controls == ("speed", "pitch", "energy")
    BUILTIN_VOICE.check()


def test_the_env_variables_locate_the_voices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_voices(tmp_path / "m", tmp_path / "v")
    monkeypatch.setenv("MANDARIN_TTS_MODELS_DIR", str(tmp_path / "m"))
    monkeypatch.setenv("MANDARIN_TTS_VOICES_DIR", str(tmp_path / "v"))
    assert VoiceCatalogue.load().names == ["baker", "aishu"]


def test_a_broken_manifest_is_skipped_not_fatal(tmp_path: Path) -> None:
    install_voices(tmp_path / "models", tmp_path / "voices")
    (tmp_path / "voices" / "broken").mkdir()
    (tmp_path / "voices" / "broken" / MANIFEST_FILE).write_text("{not json")
    wrong = tmp_path / "voices" / "other"
    wrong.mkdir()
    text = (tmp_path / "voices" / "aishu" / MANIFEST_FILE).read_text()
    (wrong / MANIFEST_FILE).write_text(text)  # names "aishu" in folder "other"
    catalogue = VoiceCatalogue.load(tmp_path / "models", tmp_path / "voices")
    assert catalogue.names == ["baker", "aishu"]


def test_choose_checks_speaker_emotion_and_controls(two_voices: VoiceCatalogue) -> None:
    aishu = two_voices.manifest("aishu")
    choice, params = two_voices.choose(aishu, None, None, VoiceParams(speed=1.5))
    assert (choice.speaker, choice.emotion, choice.sample_rate) == ("F7", "neutral", 24000)
    assert (params.voice, params.speaker, params.emotion, params.speed) == (
        "aishu",
        "F7",
        "neutral",
        1.5,
    )
    with pytest.raises(InvalidParameter, match="'speaker'.*no speaker 'X'.*F7, M1"):
        two_voices.choose(aishu, "X", None, VoiceParams())
    with pytest.raises(InvalidParameter, match="'emotion'.*neutral, happy, sad"):
        two_voices.choose(aishu, "M1", "angry", VoiceParams())
    with pytest.raises(InvalidParameter, match="'pitch' is 1.2.*no pitch control.*: speed"):
        two_voices.choose(aishu, None, None, VoiceParams(pitch=1.2))
    # A control at its neutral value is fine on any voice.
    two_voices.choose(aishu, None, None, VoiceParams(pitch=1.0, energy=1.0))
    with pytest.raises(InvalidParameter, match="'voice' 'nope' is not installed.*baker, aishu"):
        two_voices.manifest("nope")


def test_openai_voice_names_are_aliases_of_the_default(two_voices: VoiceCatalogue) -> None:
    assert two_voices.openai_voice("alloy").name == "baker"
    assert two_voices.openai_voice("aishu").name == "aishu"
    assert two_voices.openai_voice(None).name == "baker"
    with pytest.raises(InvalidParameter, match="installed voices: baker, aishu"):
        two_voices.openai_voice("ALLOY-9")


# ---------------------------------------------------------------- over HTTP


def test_get_voices_lists_the_public_fields(two_voices: VoiceCatalogue) -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.get("/v1/voices")
        assert resp.status == 200
        body = await resp.json()
        assert body["default"] == "baker"
        assert [v["name"] for v in body["voices"]] == ["baker", "aishu"]
        aishu = body["voices"][1]
        assert aishu == two_voices.voices["aishu"].public()
        assert aishu["sample_rate"] == 24000 and aishu["controls"] == ["speed"]
        assert "files" not in aishu and "directory" not in json.dumps(body)
        limits = await (await client.get("/v1/limits")).json()
        assert limits["voices"] == ["baker", "aishu"] and limits["default_voice"] == "baker"

    run(test, two_voices)


def test_voice_speaker_emotion_reach_the_synthesizer_at_the_voices_rate(
    two_voices: VoiceCatalogue,
) -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        body = {"text": "你好，世界。", "voice": "aishu", "speaker": "M1", "emotion": "happy"}
        resp = await client.post("/v1/tts", json=body)
        assert resp.status == 200, await resp.text()
        assert resp.headers["X-Sample-Rate"] == "24000" and resp.headers["X-Voice"] == "aishu"
        data, rate = sf.read(io.BytesIO(await resp.read()), dtype="int16")
        assert rate == 24000
        assert float(resp.headers["X-Audio-Duration"]) == pytest.approx(data.size / 24000, 1e-3)
        _, params = synth.calls[-1]
        assert (params.voice, params.speaker, params.emotion) == ("aishu", "M1", "happy")
        # Streaming WAV carries the voice's rate in its header too.
        resp = await client.post("/v1/tts", json={**body, "stream": True})
        streamed = await resp.read()
        assert int.from_bytes(streamed[24:28], "little") == 24000
        # No voice: the default one, its default speaker and emotion.
        resp = await client.post("/v1/tts", json={"text": "你好。"})
        assert resp.headers["X-Sample-Rate"] == "16000" and resp.headers["X-Voice"] == "baker"
        _, params = synth.calls[-1]
        assert (params.voice, params.speaker, params.emotion) == ("baker", "baker", "neutral")

    run(test, two_voices)


BAD_VOICE_REQUESTS = [
    # (route, body, words the message must contain)
    ("/v1/tts", {"text": "你好", "voice": "nope"}, ["'voice'", "baker, aishu"]),
    ("/v1/tts", {"text": "你好", "voice": 3}, ["'voice' must be a string"]),
    ("/v1/tts", {"text": "你好", "voice": "x" * 65}, ["'voice' has 65 characters"]),
    ("/v1/tts", {"text": "你好", "voice": "aishu", "speaker": "baker"}, ["'speaker'", "F7, M1"]),
    ("/v1/tts", {"text": "你好", "speaker": "F7"}, ["'speaker'", "baker"]),
    ("/v1/tts", {"text": "你好", "voice": "aishu", "emotion": "x"}, ["neutral, happy, sad"]),
    ("/v1/tts", {"text": "你好", "emotion": ["happy"]}, ["'emotion' must be a string"]),
    ("/v1/tts", {"text": "你好", "voice": "aishu", "pitch": 1.5}, ["pitch control", "speed"]),
    ("/v1/tts", {"text": "你好", "voice": "aishu", "energy": 0.8}, ["energy control"]),
    ("/v1/audio/speech", {"input": "你好", "voice": "nope"}, ["'voice'", "baker, aishu"]),
    ("/v1/audio/speech", {"input": "你好", "voice": None}, ["'voice' must be a string"]),
    (
        "/v1/audio/speech",
        {"input": "你好", "voice": "aishu", "speaker": "Z"},
        ["'speaker'", "F7, M1"],
    ),
]


@pytest.mark.parametrize(("route", "body", "words"), BAD_VOICE_REQUESTS)
def test_bad_voice_fields_are_400_listing_the_valid_values(
    two_voices: VoiceCatalogue, route: str, body: dict[str, Any], words: list[str]
) -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        resp = await client.post(route, json=body)
        assert resp.status == 400
        error = (await resp.json())["error"]
        assert error["code"] == "invalid_parameter"
        for word in words:
            assert word in error["message"], error["message"]
        assert not synth.calls  # refused before any synthesis

    run(test, two_voices)


def test_openai_route_selects_voices_and_accepts_openai_names(
    two_voices: VoiceCatalogue,
) -> None:
    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        # OpenAI's audio is 24 kHz whatever the voice's rate (resampled).
        for voice, expected, rate in (("alloy", "baker", 24000), ("aishu", "aishu", 24000)):
            resp = await client.post(
                "/v1/audio/speech",
                json={
                    "model": "tts-1",
                    "input": "你好。",
                    "voice": voice,
                    "response_format": "wav",
                },
            )
            assert resp.status == 200
            assert resp.headers["X-Voice"] == expected
            assert sf.info(io.BytesIO(await resp.read())).samplerate == rate
        resp = await client.post(
            "/v1/audio/speech",
            json={"input": "你好。", "voice": "aishu", "response_format": "opus"},
        )
        assert resp.status == 200 and resp.headers["X-Sample-Rate"] == "24000"
        assert sf.info(io.BytesIO(await resp.read())).samplerate == 24000

    run(test, two_voices)


def test_health_probe_uses_the_default_voice(tmp_path: Path) -> None:
    catalogue = catalogue_with_voices(tmp_path, bundled=False)

    async def test(client: TestClient, synth: FakeSynthesizer) -> None:
        assert (await client.get("/healthz")).status == 200
        _, params = synth.calls[-1]
        assert (params.voice, params.speaker, params.emotion) == ("aishu", "F7", "neutral")

    run(test, catalogue, health_probe_interval_s=0.0)


def test_the_cli_takes_the_voice_options(tmp_path: Path) -> None:
    from frontend.__main__ import parse_args

    config = parse_args(
        [
            "--models-dir",
            "/m",
            "--voices-dir",
            "/v",
            "--default-voice",
            "aishu",
            "--log-level",
            "ERROR",
        ]
    )
    assert (config.models_dir, config.voices_dir, config.default_voice) == ("/m", "/v", "aishu")
    install_voices(tmp_path / "m", tmp_path / "v")
    app = create_app(
        FrontendConfig(models_dir=str(tmp_path / "m"), voices_dir=str(tmp_path / "v")),
        lambda _cfg: FakeSynthesizer(),
    )
    assert app is not None
    with pytest.raises(CatalogueError):
        create_app(
            FrontendConfig(
                models_dir=str(tmp_path / "m"), voices_dir=str(tmp_path / "v"), default_voice="x"
            ),
            lambda _cfg: FakeSynthesizer(),
        )
