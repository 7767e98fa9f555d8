"""GET /openapi.json: a valid OpenAPI document whose limits are the validators' limits."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from frontend_helpers import FakeSynthesizer, catalogue_with_voices

from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.errors import InvalidParameter, TextTooLong
from frontend.openapi import SYNTHESIS_ERROR_STATUSES, build_openapi, error_codes_by_status
from frontend.validation import (
    MAX_NAME_CHARS,
    NATIVE_FORMATS,
    OPENAI_FORMATS,
    OPENAI_SPEED_RANGE,
    VOLUME_RANGE,
    parse_openai_request,
    parse_tts_request,
)
from frontend.voices import OPENAI_VOICE_ALIASES
from mandarin_tts import contract

# Not the defaults: the document must follow the configuration it is served with.
CONFIG = FrontendConfig(max_text_chars=123, max_body_bytes=4567)
PARSERS = {"TtsRequest": parse_tts_request, "SpeechRequest": parse_openai_request}
TEXT_FIELD = {"TtsRequest": "text", "SpeechRequest": "input"}
FORMAT_FIELD = {"TtsRequest": "format", "SpeechRequest": "response_format"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return build_openapi(CONFIG)


def schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return doc["components"]["schemas"][name]


def test_is_a_valid_openapi_document(doc: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)  # raises on any violation of the OpenAPI 3.1 schema


def test_structure_without_the_validator(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.1") and doc["info"]["title"]
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        for operation in item.values():
            assert operation["responses"]["200"]
    refs = [r for r in _walk(doc) if isinstance(r, dict) and "$ref" in r]
    for ref in refs:
        name = ref["$ref"].removeprefix("#/components/schemas/")
        assert name in doc["components"]["schemas"], ref


def _walk(node: Any) -> list[Any]:
    found = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found.extend(_walk(child))
    return found


def test_documented_limits_are_the_validators_constants(doc: dict[str, Any]) -> None:
    tts, speech = (
        schema(doc, "TtsRequest")["properties"],
        schema(doc, "SpeechRequest")["properties"],
    )
    assert tts["text"]["maxLength"] == speech["input"]["maxLength"] == CONFIG.max_text_chars
    assert doc["x-max-body-bytes"] == CONFIG.max_body_bytes
    for op in ("/v1/tts", "/v1/audio/speech"):
        body = doc["paths"][op]["post"]["requestBody"]["description"]
        assert str(CONFIG.max_body_bytes) in body
    ranges = {
        "speed": contract.SPEED_RANGE,
        "pitch": contract.PITCH_RANGE,
        "energy": contract.ENERGY_RANGE,
        "volume": VOLUME_RANGE,
    }
    for name, bounds in ranges.items():
        assert (tts[name]["minimum"], tts[name]["maximum"]) == bounds, name
    assert (speech["speed"]["minimum"], speech["speed"]["maximum"]) == OPENAI_SPEED_RANGE
    assert tts["format"]["enum"] == [*sorted(NATIVE_FORMATS), None]
    assert speech["response_format"]["enum"] == [*sorted(OPENAI_FORMATS), None]
    limits = schema(doc, "Limits")["properties"]
    assert limits["max_text_chars"]["const"] == CONFIG.max_text_chars
    assert limits["sample_rate"]["const"] == contract.OUTPUT_SAMPLE_RATE


@pytest.mark.parametrize("name", list(PARSERS))
def test_validators_accept_the_documented_bounds_and_reject_beyond(
    doc: dict[str, Any], name: str
) -> None:
    parse, text = PARSERS[name], TEXT_FIELD[name]
    props = schema(doc, name)["properties"]
    base = {text: "你好"}
    limit = props[text]["maxLength"]
    parse({text: "好" * limit}, CONFIG.max_text_chars)
    with pytest.raises(TextTooLong):
        parse({text: "好" * (limit + 1)}, CONFIG.max_text_chars)
    numbers = [k for k, v in props.items() if "minimum" in v]
    assert numbers
    for field in numbers:
        low, high = props[field]["minimum"], props[field]["maximum"]
        for ok in (low, high, None):
            parse({**base, field: ok}, CONFIG.max_text_chars)
        for bad in (low - 0.01, high + 0.01):
            with pytest.raises(InvalidParameter):
                parse({**base, field: bad}, CONFIG.max_text_chars)


@pytest.mark.parametrize("name", list(PARSERS))
def test_formats_defaults_and_streaming_match_the_validators(
    doc: dict[str, Any], name: str
) -> None:
    parse, text, fmt = PARSERS[name], TEXT_FIELD[name], FORMAT_FIELD[name]
    props = schema(doc, name)["properties"]
    minimal = parse({text: "你好"}, CONFIG.max_text_chars)
    assert props[fmt]["default"] == minimal.audio_format.value
    assert props["speed"]["default"] == minimal.params.speed
    assert props["stream"]["default"] is minimal.stream
    for value in props[fmt]["enum"]:
        plain = parse({text: "你好", fmt: value}, CONFIG.max_text_chars)
        streamable = props["stream"]["x-streamable-formats"]
        documented_streamable = (value or props[fmt]["default"]) in streamable
        if plain.audio_format.streamable:
            parse({text: "你好", fmt: value, "stream": True}, CONFIG.max_text_chars)
        else:
            with pytest.raises(InvalidParameter):
                parse({text: "你好", fmt: value, "stream": True}, CONFIG.max_text_chars)
        assert documented_streamable == plain.audio_format.streamable, value
    with pytest.raises(InvalidParameter):
        parse({text: "你好", fmt: "wma"}, CONFIG.max_text_chars)
    # Documented sample rates are accepted with every format that lists them.
    rates = props["sample_rate"]
    for value in props[fmt]["enum"]:
        allowed = rates["x-format-sample-rates"].get(value, rates["enum"][:-1])
        for rate in rates["enum"][:-1]:
            request = {text: "你好", fmt: value, "sample_rate": rate}
            if rate in allowed:
                assert parse(request, CONFIG.max_text_chars).sample_rate == rate
            else:
                with pytest.raises(InvalidParameter):
                    parse(request, CONFIG.max_text_chars)


def test_error_responses_list_every_error_code(doc: dict[str, Any]) -> None:
    codes = error_codes_by_status()
    assert {"invalid_json", "invalid_parameter"} <= set(codes[400])
    assert {"text_too_long", "body_too_large"} <= set(codes[413])
    assert {"unauthorized"} <= set(codes[401]) and {"shutting_down"} <= set(codes[503])
    assert set(codes) == set(SYNTHESIS_ERROR_STATUSES)  # a new error class gets documented
    responses = doc["paths"]["/v1/tts"]["post"]["responses"]
    assert set(responses) == {"200", *map(str, SYNTHESIS_ERROR_STATUSES)}
    for status in SYNTHESIS_ERROR_STATUSES:
        for code in codes[status]:
            assert code in responses[str(status)]["description"]
    assert "Retry-After" in responses["429"]["headers"]


def test_served_at_openapi_json_for_the_running_config() -> None:
    async def main() -> tuple[int, dict[str, Any], dict[str, Any]]:
        app = create_app(CONFIG, lambda _cfg: FakeSynthesizer())
        async with TestClient(TestServer(app)) as client:
            resp = await client.get("/openapi.json")
            limits = await (await client.get("/v1/limits")).json()
            return resp.status, await resp.json(), limits

    status, served, limits = asyncio.run(main())
    assert status == 200
    assert served == build_openapi(CONFIG)
    # /v1/limits and the document agree.
    props = schema(served, "TtsRequest")["properties"]
    assert limits["max_text_chars"] == props["text"]["maxLength"]
    assert limits["max_body_bytes"] == served["x-max-body-bytes"]
    assert limits["speed"] == [props["speed"]["minimum"], props["speed"]["maximum"]]
    assert limits["formats"] == props["format"]["enum"][:-1]


# ---------------------------------------------------------------- voices


def test_voice_fields_and_the_voices_endpoint_follow_the_catalogue(tmp_path: Path) -> None:
    catalogue = catalogue_with_voices(tmp_path)
    doc = build_openapi(CONFIG, catalogue)
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)
    tts, speech = (
        schema(doc, "TtsRequest")["properties"],
        schema(doc, "SpeechRequest")["properties"],
    )
    assert tts["voice"]["enum"] == ["baker", "aishu", None] and tts["voice"]["default"] == "baker"
    assert tts["speaker"]["enum"] == ["F7", "M1", "baker", None]
    assert tts["emotion"]["enum"] == ["happy", "neutral", "sad", None]
    assert tts["voice"]["maxLength"] == MAX_NAME_CHARS
    # The OpenAI route: our voices plus OpenAI's names (aliases of the default), not null.
    # A name or OpenAI's object form {"id": name}.
    by_name, by_object = speech["voice"]["anyOf"]
    assert by_name["enum"][:2] == ["baker", "aishu"] and "alloy" in by_name["enum"]
    assert by_name["type"] == "string" and by_object["properties"]["id"]["enum"] == by_name["enum"]
    assert set(by_name["enum"][2:]) == set(OPENAI_VOICE_ALIASES)
    voices = doc["paths"]["/v1/voices"]["get"]
    assert voices["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Voices"
    }
    assert schema(doc, "Voices")["properties"]["default"]["enum"] == ["baker", "aishu"]
    # Every public field of a voice is documented, and required.
    public = catalogue.voices["aishu"].public()
    assert set(schema(doc, "Voice")["required"]) == set(public)
    assert schema(doc, "Limits")["properties"]["default_voice"]["const"] == "baker"


def test_served_document_and_answers_agree_with_the_catalogue(tmp_path: Path) -> None:
    catalogue = catalogue_with_voices(tmp_path)

    async def main() -> tuple[dict[str, Any], dict[str, Any], list[int], list[int]]:
        app = create_app(CONFIG, lambda _cfg: FakeSynthesizer(0.001), catalogue=catalogue)
        async with TestClient(TestServer(app)) as client:
            served = await (await client.get("/openapi.json")).json()
            voices = await (await client.get("/v1/voices")).json()
            enum = schema(served, "TtsRequest")["properties"]["voice"]["enum"]
            accepted = [
                (await client.post("/v1/tts", json={"text": "你好", "voice": v})).status
                for v in enum
            ]
            speech_voice = schema(served, "SpeechRequest")["properties"]["voice"]
            speech_enum = speech_voice["anyOf"][0]["enum"]
            speech = [
                (await client.post("/v1/audio/speech", json={"input": "你好", "voice": v})).status
                for v in [*speech_enum, *({"id": name} for name in speech_enum)]
            ]
            return served, voices, accepted, speech

    served, voices, accepted, speech = asyncio.run(main())
    assert served == build_openapi(CONFIG, catalogue)
    assert voices["default"] == schema(served, "TtsRequest")["properties"]["voice"]["default"]
    assert accepted == [200] * len(accepted) and speech == [200] * len(speech)
    voice_schema = schema(served, "Voice")
    for voice in voices["voices"]:
        assert set(voice) == set(voice_schema["properties"])
        assert set(voice["controls"]) <= set(
            voice_schema["properties"]["controls"]["items"]["enum"]
        )
