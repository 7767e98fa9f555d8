"""Hostile input against a real frontend process in front of a real Triton.

Explicit cases (oversized and chunked bodies, deep nesting, invalid UTF-8, wrong types,
NaN/Infinity, huge numbers, odd Content-Types, ...) and property-based cases that
schemathesis generates from the frontend's own /openapi.json. Every answer must be a 2xx
or a 4xx with a JSON error that says what to fix, never a 5xx; afterwards the same
process (no crash, no restart, no internal error logged or counted) still synthesizes.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
import soundfile as sf
from frontend_process_helpers import FrontendProcess
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from schemathesis.config import SchemathesisConfig

from frontend.config import FrontendConfig
from frontend.openapi import build_openapi
from mandarin_tts import contract

pytestmark = pytest.mark.integration

# A small text limit keeps every valid case schemathesis generates to one or two short
# chunks (few, quick syntheses); the body limit stays the default.
TEXT_LIMIT = 24
NORMAL_TEXT = "你好，欢迎使用。"  # the same text each time: Triton's response cache answers
TIMEOUT_S = 120
NEGATIVE_EXAMPLES = 150
POSITIVE_EXAMPLES = 20


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def error(self) -> dict[str, Any]:
        return json.loads(self.body)["error"]


@pytest.fixture(scope="module")
def hostile(triton_server, tmp_path_factory) -> Iterator[FrontendProcess]:
    proc = FrontendProcess(
        triton_server.grpc_url,
        "--max-text-chars",
        str(TEXT_LIMIT),
        log_dir=tmp_path_factory.mktemp("hostile-frontend"),
    )
    try:
        yield proc.start()
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def pid(hostile: FrontendProcess) -> int:
    assert hostile.proc is not None
    return hostile.proc.pid


@pytest.fixture(autouse=True)
def still_running(hostile: FrontendProcess, pid: int, triton_server) -> Iterator[None]:
    """After every test: the same frontend process is alive and logged no internal error."""
    yield
    assert hostile.proc is not None and hostile.proc.pid == pid
    assert hostile.proc.poll() is None, f"frontend exited:\n{hostile.log_tail()}"
    assert triton_server.process.proc.poll() is None, "tritonserver exited"
    log = hostile.log_path.read_text(errors="replace")
    assert "unhandled error" not in log, hostile.log_tail(80)
    assert not unexpected_exceptions(log), hostile.log_tail(80)


# aiohttp's HTTP parser logs broken framing (with a traceback) and answers it with 400.
EXPECTED_EXCEPTIONS = ("aiohttp.http_exceptions.BadHttpMessage",)


def unexpected_exceptions(log: str) -> list[str]:
    """The exception line of every traceback in `log` that is not an expected one."""
    found = []
    for block in log.split("Traceback (most recent call last):\n")[1:]:
        lines = [line for line in block.splitlines() if line and not line[0].isspace()]
        exception = lines[0] if lines else block[:200]
        if not exception.startswith(EXPECTED_EXCEPTIONS):
            found.append(exception)
    return found


def request(
    fe: FrontendProcess, path: str, body: bytes | Iterable[bytes] | None, headers: dict[str, str]
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", fe.port, timeout=TIMEOUT_S)
    try:
        chunked = body is not None and not isinstance(body, bytes)
        conn.request("POST", path, body=body, headers=headers, encode_chunked=chunked)
        resp = conn.getresponse()
        return Reply(resp.status, dict(resp.getheaders()), resp.read())
    finally:
        conn.close()


def post_json_bytes(
    fe: FrontendProcess, body: bytes, path: str = "/v1/tts", **headers: str
) -> Reply:
    return request(fe, path, body, {"Content-Type": "application/json", **headers})


def raw_exchange(port: int, head: bytes, body: Iterable[bytes]) -> Reply:
    """Send `head` then `body` from a thread while reading the answer: a server that answers
    before reading a huge body must not leave the client stuck sending it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)

    def send() -> None:
        try:
            sock.sendall(head)
            for piece in body:
                sock.sendall(piece)
        except OSError:
            pass  # the server answered and closed: expected for a refused body

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(65536)
            assert piece, f"connection closed without an answer: {data!r}"
            data += piece
        head_bytes, rest = data.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        length = int(headers["Content-Length"])
        while len(rest) < length:
            piece = sock.recv(65536)
            assert piece, "connection closed in the middle of the answer"
            rest += piece
        return Reply(int(lines[0].split()[1]), headers, rest[:length])
    finally:
        sock.close()
        sender.join(timeout=10)


def assert_clear_error(reply: Reply, status: int | None = None, code: str | None = None) -> None:
    """A 4xx (the given one) with {"error": {code, message, request_id}} that helps."""
    assert 400 <= reply.status < 500, (reply.status, reply.body[:300])
    if status is not None:
        assert reply.status == status, reply.body[:300]
    assert reply.headers.get("Content-Type", "").startswith("application/json"), reply.headers
    error = reply.error()
    assert error["request_id"] == reply.headers["X-Request-Id"]
    assert isinstance(error["message"], str) and len(error["message"]) >= 10, error
    if code is not None:
        assert error["code"] == code, error


def assert_speech(reply: Reply, rate_expected: int = contract.OUTPUT_SAMPLE_RATE) -> None:
    assert reply.status == 200, reply.body[:300]
    audio, rate = sf.read(io.BytesIO(reply.body), dtype="float32")
    assert rate == rate_expected and audio.size > rate // 4


def limits(fe: FrontendProcess) -> dict[str, Any]:
    with urllib.request.urlopen(fe.url + "/v1/limits", timeout=30) as resp:
        return json.loads(resp.read())


# ---------------------------------------------------------------- body size and framing


def test_body_just_over_the_limit(hostile):
    size = limits(hostile)["max_body_bytes"] + 1
    body = b'{"text": "' + b"a" * (size - 12) + b'"}'
    assert len(body) == size
    assert_clear_error(post_json_bytes(hostile, body), 413, "body_too_large")


def test_body_far_over_the_limit_is_refused_before_it_is_read(hostile):
    size = 64 * 1024 * 1024
    head = (
        f"POST /v1/tts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    reply = raw_exchange(hostile.port, head, (b"a" * 1024 * 1024 for _ in range(64)))
    assert_clear_error(reply, 413, "body_too_large")
    assert str(size) in reply.error()["message"]


def test_chunked_body_without_content_length_over_the_limit(hostile):
    head = (
        b"POST /v1/tts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"a" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 64 + [b"0\r\n\r\n"]  # 4 MiB
    assert_clear_error(raw_exchange(hostile.port, head, chunks), 413, "body_too_large")


def test_stalled_uploads_do_not_lock_others_out(hostile):
    """More stalled bodies than --max-active-requests (16): others are still served (the
    stalled ones get 408 after frontend.validation.BODY_READ_TIMEOUT_S)."""
    head = (
        b"POST /v1/tts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"text'
    )
    stalled = [socket.create_connection(("127.0.0.1", hostile.port)) for _ in range(20)]
    try:
        for sock in stalled:
            sock.sendall(head)
        time.sleep(0.5)
        reply = post_json_bytes(hostile, json.dumps({"text": NORMAL_TEXT}).encode())
        assert_speech(reply)
    finally:
        for sock in stalled:
            sock.close()


def test_clients_leaving_mid_upload_are_no_internal_error(hostile):
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", hostile.port)) as sock:
            sock.sendall(
                b"POST /v1/tts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"text'
            )
            time.sleep(0.1)
    time.sleep(0.5)
    with urllib.request.urlopen(hostile.url + "/metrics", timeout=30) as resp:
        assert 'tts_frontend_errors_total{code="incomplete_body"}' in resp.read().decode()


def test_malformed_chunk_framing_is_refused(hostile):
    """Sent in one piece, aiohttp's parser refuses broken chunk framing itself: a plain-text
    400 before the app runs. (Arriving after the handler started reading, it ends in the
    body deadline's 408 instead.)"""
    head = (
        b"POST /v1/tts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    for framing in (b"zz\r\nabc\r\n0\r\n\r\n", b"5\r\nabcdefgh\r\n0\r\n\r\n"):
        reply = raw_exchange(hostile.port, head + framing, [])
        assert reply.status in (400, 408), reply


def test_small_chunked_body_is_parsed(hostile):
    reply = request(
        hostile,
        "/v1/tts",
        iter([b'{"text": ', b'"   "}']),
        {"Content-Type": "application/json"},
    )
    assert_clear_error(reply, 400, "invalid_parameter")
    assert "'text' is empty" in reply.error()["message"]


def test_a_megabyte_of_text(hostile):
    body = json.dumps({"text": "好" * 1_000_000}, ensure_ascii=False).encode()
    assert_clear_error(post_json_bytes(hostile, body), 413, "body_too_large")


def test_text_just_over_the_character_limit(hostile):
    body = json.dumps({"text": "好" * (TEXT_LIMIT + 1)}).encode()
    reply = post_json_bytes(hostile, body)
    assert_clear_error(reply, 413, "text_too_long")
    assert f"maximum is {TEXT_LIMIT}" in reply.error()["message"]


# ---------------------------------------------------------------- JSON syntax and encoding

BAD_BODIES = {
    "empty": b"",
    "deeply nested list": b"[" * 100_000 + b"]" * 100_000,
    "deeply nested object": b'{"a":' * 40_000 + b"1" + b"}" * 40_000,
    "nested inside a field": b'{"text": "hi", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "invalid utf-8 body": b"\xff\xfe\xfa\x80",
    "invalid utf-8 in text": b'{"text": "\xe4\xbd\xa0\xff\xfe"}',
    "utf-16 body": '{"text": "你好"}'.encode("utf-16"),
    "bom": b'\xef\xbb\xbf{"text": "hi"}',
    "truncated": b'{"text": "hi',
    "trailing garbage": b'{"text": "hi"} x',
    "not json": b"text=hi",
    "a list": b'["text", "hi"]',
    "a string": b'"hi"',
    "a number": b"1",
    "null": b"null",
    "true": b"true",
    "integer with 5000 digits": b'{"text": "hi", "speed": ' + b"9" * 5000 + b"}",
    "nul byte": b'{"text": "hi"}\x00',
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
@pytest.mark.parametrize("path", ["/v1/tts", "/v1/audio/speech"])
def test_bad_json_bodies(hostile, path, name):
    assert_clear_error(post_json_bytes(hostile, BAD_BODIES[name], path), 400, "invalid_json")


BAD_TEXTS = {
    "lone surrogate": b'{"text": "\\u4f60\\ud800"}',
    "whitespace only": json.dumps({"text": " \t\n\u3000"}).encode(),
    "punctuation only": json.dumps({"text": "。，！？……"}).encode(),
    "emoji only": json.dumps({"text": "😀🎉👍"}).encode(),
    "nul characters": b'{"text": "\\u0000\\u0000"}',
}


@pytest.mark.parametrize("name", list(BAD_TEXTS))
def test_texts_with_nothing_valid_to_speak(hostile, name):
    assert_clear_error(post_json_bytes(hostile, BAD_TEXTS[name]), 400)


@pytest.mark.parametrize("text", ["Привет мир", "ℵ∑∫", "\u200b\u200d好", "a\u0301\u0308"])
def test_unusual_scripts_reach_triton_and_never_fail_with_5xx(hostile, text):
    reply = post_json_bytes(hostile, json.dumps({"text": text}).encode())
    if reply.status != 200:
        assert_clear_error(reply)


# ---------------------------------------------------------------- field types and values

TTS_NUMBERS = ["speed", "pitch", "energy", "volume"]
WRONG_VALUES: dict[str, list[Any]] = {
    "text": [None, 1, 1.5, True, [], ["你好"], {"text": "你好"}],
    "speed": ["1.0", True, [], {}, [1.0]],
    "pitch": ["high", False, [], {}],
    "energy": ["1", True, [], {}],
    "volume": ["loud", True, [], {}],
    "format": [1, True, [], {}, ["wav"], "mp4", "WAVE", ""],
    "stream": ["true", 1, 0, [], {}],
    "voice": [1, True, [], {}, "nope", "v" * 65],
    "speaker": [1, [], {}, "nobody"],
    "emotion": [2.5, [], "furious"],
}
OPENAI_WRONG_VALUES: dict[str, list[Any]] = {
    "input": [None, 1, [], {}],
    "model": [1, None, [], {}],
    "voice": [1, False, [], {}, None, "nope"],
    "response_format": [1, [], {}, "mp4", "ogg"],
    "speed": ["fast", True, []],
    "stream": ["yes", 1],
}


def _wrong_type_cases() -> list[tuple[str, str, str, Any]]:
    cases = [("/v1/tts", "text", f, v) for f, vs in WRONG_VALUES.items() for v in vs]
    cases += [
        ("/v1/audio/speech", "input", f, v) for f, vs in OPENAI_WRONG_VALUES.items() for v in vs
    ]
    return cases


@pytest.mark.parametrize("path,text_field,field,value", _wrong_type_cases())
def test_wrong_types_and_values_name_the_field(hostile, path, text_field, field, value):
    body = {text_field: NORMAL_TEXT, field: value}
    reply = post_json_bytes(hostile, json.dumps(body).encode(), path)
    assert_clear_error(reply, 400, "invalid_parameter")
    assert f"'{field}'" in reply.error()["message"]


NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400, "-" + "9" * 4000]


@pytest.mark.parametrize("literal", NON_FINITE)
@pytest.mark.parametrize("field", TTS_NUMBERS)
def test_non_finite_and_huge_numbers(hostile, field, literal):
    body = b'{"text": "%s", "%s": %s}' % (NORMAL_TEXT.encode(), field.encode(), literal.encode())
    reply = post_json_bytes(hostile, body)
    assert_clear_error(reply, 400, "invalid_parameter")
    message = reply.error()["message"]
    assert f"'{field}'" in message and len(message) < 200


@pytest.mark.parametrize("field", TTS_NUMBERS)
def test_out_of_range_numbers_state_the_range(hostile, field):
    reply = post_json_bytes(hostile, json.dumps({"text": NORMAL_TEXT, field: -5}).encode())
    assert_clear_error(reply, 400, "invalid_parameter")
    assert "outside its range" in reply.error()["message"]


def test_streaming_a_format_that_cannot_stream(hostile):
    body = json.dumps({"text": NORMAL_TEXT, "format": "flac", "stream": True}).encode()
    reply = post_json_bytes(hostile, body)
    assert_clear_error(reply, 400, "invalid_parameter")
    assert "stream" in reply.error()["message"]


# ---------------------------------------------------------------- content types


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "",
     "application/xml", "audio/wav"],
)  # fmt: skip
def test_non_json_content_types(hostile, content_type):
    body = json.dumps({"text": NORMAL_TEXT}).encode()
    reply = request(hostile, "/v1/tts", body, {"Content-Type": content_type})
    assert_clear_error(reply, 415, "unsupported_media_type")


def test_missing_content_type_is_read_as_json(hostile):
    body = json.dumps({"text": NORMAL_TEXT}).encode()
    assert_speech(request(hostile, "/v1/tts", body, {}))


def test_unknown_fields_are_ignored(hostile):
    body = {"text": NORMAL_TEXT, "unknown": {"deep": [1, 2, {"x": None}]}, "style": 7}
    assert_speech(post_json_bytes(hostile, json.dumps(body).encode()))
    body = {"input": NORMAL_TEXT, "model": "tts-1", "voice": "alloy", "instructions": "calm"}
    body["response_format"] = "wav"  # OpenAI's default is mp3, at 24 kHz
    assert_speech(post_json_bytes(hostile, json.dumps(body).encode(), "/v1/audio/speech"), 24_000)


def test_hostile_request_ids_are_replaced(hostile):
    for offered in ["x" * 500, "a b", "<script>", "id\u00e9"]:
        headers = {"X-Request-Id": offered.encode("utf-8").decode("latin-1")}
        reply = post_json_bytes(hostile, b"[]", **headers)
        assert_clear_error(reply, 400)
        assert reply.headers["X-Request-Id"] != offered


# ---------------------------------------------------------------- generated from /openapi.json


def _served_schema(fe: FrontendProcess) -> Any:
    config = SchemathesisConfig.from_dict(
        # Rejections we answer for input the schema forbids (413: text over maxLength).
        {"checks": {"negative_data_rejection": {"expected-statuses": [400, 413, 415]}}}
    )
    schema = schemathesis.openapi.from_url(fe.url + "/openapi.json", config=config)
    return schema.include(method="POST")


def _fuzz(fe: FrontendProcess, mode: GenerationMode, examples: int) -> list[int]:
    schema = _served_schema(fe)
    checks = [
        st_checks.not_a_server_error,
        st_checks.status_code_conformance,
        st_checks.content_type_conformance,
        st_checks.response_schema_conformance,
        st_checks.negative_data_rejection,
    ]
    statuses: list[int] = []

    @given(case=schema.as_strategy(mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same cases every run
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
        suppress_health_check=list(HealthCheck),
    )
    def one_case(case: Any) -> None:
        response = case.call(base_url=fe.url, timeout=TIMEOUT_S)
        statuses.append(response.status_code)
        case.validate_response(response, checks=checks)
        if 400 <= response.status_code < 500:
            error = json.loads(response.content)["error"]
            assert len(error["message"]) >= 10, error

    one_case()
    return statuses


def test_the_fuzzed_schema_is_this_servers_document(hostile):
    with urllib.request.urlopen(hostile.url + "/openapi.json", timeout=30) as resp:
        served = json.loads(resp.read())
    assert served == build_openapi(FrontendConfig(max_text_chars=TEXT_LIMIT))


def test_schema_negative_cases_are_rejected_clearly(hostile):
    statuses = _fuzz(hostile, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)
    print(f"\nnegative: {len(statuses)} cases, statuses {sorted(set(statuses))}")
    assert statuses and all(400 <= s < 500 for s in statuses), statuses


def test_schema_positive_cases_never_fail_with_5xx(hostile):
    statuses = _fuzz(hostile, GenerationMode.POSITIVE, POSITIVE_EXAMPLES)
    print(f"\npositive: {len(statuses)} cases, statuses {sorted(set(statuses))}")
    assert statuses and all(s < 500 for s in statuses), statuses


# ---------------------------------------------------------------- afterwards (runs last)


def test_still_serves_a_normal_request_and_counted_no_internal_error(hostile, pid):
    body = json.dumps({"text": NORMAL_TEXT}).encode()
    assert_speech(post_json_bytes(hostile, body))
    with urllib.request.urlopen(hostile.url + "/metrics", timeout=30) as resp:
        metrics = resp.read().decode()
    internal = [line for line in metrics.splitlines() if 'code="internal"' in line]
    assert all(line.endswith(" 0.0") for line in internal if "_total" in line), internal
    assert hostile.proc is not None and hostile.proc.pid == pid
