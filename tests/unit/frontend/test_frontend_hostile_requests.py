"""Hostile bodies that used to get a 500 (found by tests/integration/test_frontend_hostile_input.py),
and aiohttp's own 404/405 answered with what to do instead."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from frontend_helpers import FakeSynthesizer

import frontend.app as app_module
from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.errors import InvalidJson, InvalidParameter
from frontend.validation import parse_json_object, parse_openai_request, parse_tts_request

MAX = 100


def test_deeply_nested_json_is_invalid_json_not_a_recursion_error() -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        with pytest.raises(InvalidJson, match="nested too deeply"):
            parse_json_object(body)


def test_an_integer_over_the_digit_limit_is_invalid_json() -> None:
    with pytest.raises(InvalidJson, match="thousands of digits"):
        parse_json_object(b'{"text": "hi", "speed": ' + b"9" * 5000 + b"}")


@pytest.mark.parametrize(
    "parse,text", [(parse_tts_request, "text"), (parse_openai_request, "input")]
)
def test_an_integer_beyond_float_range_is_out_of_range(parse: Any, text: str) -> None:
    with pytest.raises(InvalidParameter, match="outside its range") as error:
        parse({text: "你好", "speed": 10**400}, MAX)
    assert len(error.value.message) < 120  # not 400 digits echoed back
    with pytest.raises(InvalidParameter, match="outside its range"):
        parse({text: "你好", "speed": -(10**400)}, MAX)


@pytest.mark.parametrize(
    "parse,text", [(parse_tts_request, "text"), (parse_openai_request, "input")]
)
def test_a_lone_surrogate_in_the_text_is_rejected(parse: Any, text: str) -> None:
    data = parse_json_object(b'{"' + text.encode() + b'": "\\u4f60\\ud800\\u597d"}')
    with pytest.raises(InvalidParameter, match="unpaired surrogate.*position 1"):
        parse(data, MAX)
    # A correctly paired surrogate escape (an emoji) is valid Unicode.
    assert parse(parse_json_object(b'{"' + text.encode() + b'": "\\u4f60\\ud83d\\ude00"}'), MAX)


def run(method: str, path: str) -> tuple[int, dict[str, Any], str | None]:
    async def main() -> tuple[int, dict[str, Any], str | None]:
        app = create_app(FrontendConfig(), lambda _cfg: FakeSynthesizer())
        async with TestClient(TestServer(app)) as client:
            resp = await client.request(method, path)
            return resp.status, await resp.json(), resp.headers.get("Allow")

    return asyncio.run(main())


def test_wrong_method_says_which_to_use_and_keeps_allow() -> None:
    status, body, allow = run("GET", "/v1/tts")
    assert status == 405 and body["error"]["code"] == "method_not_allowed"
    assert body["error"]["message"] == "GET is not allowed on /v1/tts; use POST"
    assert allow == "POST"


def test_unknown_path_points_at_the_api_description() -> None:
    status, body, _ = run("POST", "/v1/nothing")
    assert status == 404 and body["error"]["code"] == "not_found"
    assert "/openapi.json" in body["error"]["message"]


async def start_partial_upload(
    client: TestClient,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A request that announces 100 body bytes and sends 4 of them."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /v1/tts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"te'
    )
    await writer.drain()
    return reader, writer


def test_a_stalled_upload_gets_408_and_holds_no_admission_slot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Slow-loris: before the fix a body that never arrived held an admission slot forever,
    so max_active_requests idle connections locked everybody else out with 429."""
    monkeypatch.setattr(app_module, "BODY_READ_TIMEOUT_S", 0.5)

    async def main() -> tuple[int, bytes]:
        app = create_app(FrontendConfig(max_active_requests=1), lambda _cfg: FakeSynthesizer())
        async with TestClient(TestServer(app)) as client:
            reader, writer = await start_partial_upload(client)
            await asyncio.sleep(0.1)
            other = (await client.post("/v1/tts", json={"text": "你好"})).status
            answer = await asyncio.wait_for(reader.read(4096), timeout=10)
            writer.close()
            return other, answer

    other, answer = asyncio.run(main())
    assert other == 200
    assert answer.startswith(b"HTTP/1.1 408"), answer
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "body_timeout" and "0.5 s" in body["error"]["message"]


def test_a_client_leaving_mid_upload_is_not_an_internal_error() -> None:
    """Before the fix: ConnectionResetError -> logged with a traceback, counted as internal."""

    async def main() -> str:
        app = create_app(FrontendConfig(), lambda _cfg: FakeSynthesizer())
        async with TestClient(TestServer(app)) as client:
            reader, writer = await start_partial_upload(client)
            await asyncio.sleep(0.2)
            writer.close()
            await asyncio.sleep(0.5)
            return await (await client.get("/metrics")).text()

    metrics = asyncio.run(main())
    assert 'tts_frontend_errors_total{code="incomplete_body"} 1.0' in metrics
    assert 'code="internal"' not in metrics
