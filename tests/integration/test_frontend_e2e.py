"""End-to-end tests of the HTTP frontend against the real Triton server (`triton_server` fixture
from conftest.py).  The frontend runs as its own process, exactly as `make serve` starts it."""

from __future__ import annotations

import http.client
import io
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import tritonclient.grpc as grpcclient
from frontend_process_helpers import FrontendProcess, eval_text_path

from frontend.assembly import Assembler
from frontend.chunking import split_text
from frontend.config import FrontendConfig
from mandarin_tts import contract
from mandarin_tts.serving.ports import free_port

pytestmark = pytest.mark.integration

LONG_TEXT_PATH = eval_text_path("long_zh.txt")
DEFAULTS = FrontendConfig()


def _long_text() -> str:
    if not LONG_TEXT_PATH.exists():
        pytest.skip(f"{LONG_TEXT_PATH} is missing")
    return LONG_TEXT_PATH.read_text(encoding="utf-8").strip()


def post(
    url: str,
    body: dict[str, Any] | bytes,
    headers: dict[str, str] | None = None,
    timeout: float = 600,
) -> tuple[int, dict[str, str], bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def synthesize_directly(triton_grpc: str, text: str) -> np.ndarray:
    """One chunk straight from Triton, with the inputs the frontend sends."""
    client = grpcclient.InferenceServerClient(triton_grpc)
    inputs = []
    for name, value, dtype in [
        (contract.TTS_IN_TEXT, np.array([[text.encode("utf-8")]], dtype=np.object_), "BYTES"),
        (contract.TTS_IN_SPEED, np.array([[1.0]], np.float32), "FP32"),
        (contract.TTS_IN_PITCH, np.array([[1.0]], np.float32), "FP32"),
        (contract.TTS_IN_ENERGY, np.array([[1.0]], np.float32), "FP32"),
    ]:
        tensor = grpcclient.InferInput(name, list(value.shape), dtype)
        tensor.set_data_from_numpy(value)
        inputs.append(tensor)
    result = client.infer(contract.MODEL_ENSEMBLE, inputs, client_timeout=120)
    return np.ravel(result.as_numpy(contract.TTS_OUT_AUDIO)).astype(np.float32)


def test_streaming_sends_first_bytes_well_before_the_end(frontend: FrontendProcess) -> None:
    text = _long_text()
    # A speed no other test of the session uses: Triton's response cache is cold for these
    # chunks (other modules synthesize the same text), else every chunk is answered at once.
    body = json.dumps({"text": text, "stream": True, "speed": 0.97}).encode("utf-8")
    request = urllib.request.Request(
        frontend.url + "/v1/tts", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=600) as response:
        assert response.headers.get("Transfer-Encoding") == "chunked"
        first = response.read1(65536)
        first_s = time.monotonic() - started
        rest = response.read()
    total_s = time.monotonic() - started
    wav = first + rest
    print(
        f"\nstreaming {len(text)} chars: first {len(first)} bytes after {first_s:.3f} s, "
        f"whole {len(wav)} bytes ({(len(wav) - 44) / 32000:.1f} s audio) after {total_s:.3f} s"
    )
    assert wav[:4] == b"RIFF" and len(first) > 44
    assert first_s < 0.5 * total_s


def test_long_text_is_one_wav_whose_duration_is_the_sum_of_its_chunks(
    frontend: FrontendProcess, triton_server: Any
) -> None:
    text = _long_text()
    status, headers, body = post(frontend.url + "/v1/tts", {"text": text})
    assert status == 200, body[:500]
    assert headers["Content-Type"] == "audio/wav"
    audio, rate = sf.read(io.BytesIO(body), dtype="int16")
    assert rate == contract.OUTPUT_SAMPLE_RATE and audio.ndim == 1
    assert len(body) == 44 + 2 * audio.size  # one header, sizes filled in

    chunks = split_text(text, DEFAULTS.chunk_max_chars, DEFAULTS.first_chunk_max_chars)
    assert int(headers["X-Chunks"]) == len(chunks) > 5
    assembler = Assembler(contract.OUTPUT_SAMPLE_RATE)
    raw_total = 0
    expected = 0
    for index, chunk in enumerate(chunks):
        chunk_audio = synthesize_directly(triton_server.grpc_url, chunk.text)
        raw_total += chunk_audio.size
        expected += assembler.piece(chunk_audio, chunk.pause_after, index == len(chunks) - 1).size
    print(
        f"\nlong text: {len(text)} chars, {len(chunks)} chunks, WAV {audio.size / rate:.2f} s; "
        f"chunks (trimmed) + pauses {expected / rate:.2f} s; raw chunk audio {raw_total / rate:.2f} s"
    )
    assert audio.size == pytest.approx(expected, rel=0.01)
    assert float(headers["X-Audio-Duration"]) == pytest.approx(audio.size / rate, abs=1e-3)
    assert np.abs(audio).max() > 1000  # not silence


def test_five_thousand_characters(frontend: FrontendProcess) -> None:
    # The long text nine times, cut to 5,000 characters.  Its chunks were synthesized by the
    # tests above, so Triton's response cache answers most of them: this checks the 5,000-
    # character path (chunking, fan-out of ~150 chunks, assembly, a 25 MB stream) cheaply.
    text = ((_long_text() + "\n") * 9)[:5000]
    started = time.monotonic()
    status, headers, body = post(frontend.url + "/v1/tts", {"text": text, "stream": True})
    elapsed = time.monotonic() - started
    assert status == 200, body[:500]
    samples = (len(body) - 44) // 2
    print(
        f"\n5,000 chars: {headers['X-Chunks']} chunks, {samples / contract.OUTPUT_SAMPLE_RATE:.1f} s "
        f"of audio in {elapsed:.1f} s (mostly from Triton's response cache)"
    )
    assert int(headers["X-Chunks"]) > 100
    assert samples / contract.OUTPUT_SAMPLE_RATE > 5000 * 0.1  # well over 0.1 s per character


BAD_INPUTS = [
    # (name, route, body, content type, status, error code)
    ("invalid json", "/v1/tts", b"{oops", "application/json", 400, "invalid_json"),
    ("not json", "/v1/tts", b"text=hi", "text/plain", 415, "unsupported_media_type"),
    ("no text", "/v1/tts", {"speed": 1.0}, None, 400, "invalid_parameter"),
    ("empty text", "/v1/tts", {"text": "  "}, None, 400, "invalid_parameter"),
    ("only punctuation", "/v1/tts", {"text": "。。，"}, None, 400, "invalid_parameter"),
    (
        "too many chars",
        "/v1/tts",
        {"text": "好" * (DEFAULTS.max_text_chars + 1)},
        None,
        413,
        "text_too_long",
    ),
    (
        "body too large",
        "/v1/tts",
        {"text": "好", "x": "y" * DEFAULTS.max_body_bytes},
        None,
        413,
        "body_too_large",
    ),
    (
        "speed too high",
        "/v1/tts",
        {"text": "你好", "speed": contract.SPEED_RANGE[1] * 2},
        None,
        400,
        "invalid_parameter",
    ),
    ("speed too low", "/v1/tts", {"text": "你好", "speed": 0}, None, 400, "invalid_parameter"),
    ("pitch string", "/v1/tts", {"text": "你好", "pitch": "high"}, None, 400, "invalid_parameter"),
    ("volume", "/v1/tts", {"text": "你好", "volume": 3}, None, 400, "invalid_parameter"),
    (
        "unknown format",
        "/v1/tts",
        {"text": "你好", "format": "wma"},
        None,
        400,
        "invalid_parameter",
    ),
    (
        "stream flac",
        "/v1/tts",
        {"text": "你好", "format": "flac", "stream": True},
        None,
        400,
        "invalid_parameter",
    ),
    ("unknown voice", "/v1/tts", {"text": "你好", "voice": "nope"}, None, 400, "invalid_parameter"),
    (
        "unknown speaker",
        "/v1/tts",
        {"text": "你好", "speaker": "nobody"},
        None,
        400,
        "invalid_parameter",
    ),
    # Scripts the voices do not read are skipped; with nothing else left, a 400 says so.
    ("only another script", "/v1/tts", {"text": "Привет мир"}, None, 400, "invalid_parameter"),
    ("unknown route", "/v1/nothing", {"text": "你好"}, None, 404, "not_found"),
]


@pytest.mark.parametrize(
    ("name", "route", "body", "content_type", "status", "code"),
    BAD_INPUTS,
    ids=[b[0] for b in BAD_INPUTS],
)
def test_bad_inputs_get_their_error_and_the_service_keeps_serving(
    frontend: FrontendProcess,
    name: str,
    route: str,
    body: Any,
    content_type: str | None,
    status: int,
    code: str,
) -> None:
    headers = {"X-Request-Id": f"bad-{name.replace(' ', '-')}"}
    if content_type:
        headers["Content-Type"] = content_type
    got_status, got_headers, got_body = post(frontend.url + route, body, headers)
    assert got_status == status, got_body[:300]
    error = json.loads(got_body)["error"]
    assert error["code"] == code and error["message"]
    assert error["request_id"] == got_headers["X-Request-Id"] == headers["X-Request-Id"]
    ok_status, _, ok_body = post(frontend.url + "/v1/tts", {"text": "你好。"})
    assert ok_status == 200 and ok_body[:4] == b"RIFF"


def test_formats_and_openai_route(frontend: FrontendProcess) -> None:
    for fmt, container in [("flac", "FLAC"), ("ogg", "OGG")]:
        status, headers, body = post(
            frontend.url + "/v1/tts", {"text": "欢迎使用。", "format": fmt}
        )
        assert status == 200 and sf.info(io.BytesIO(body)).format == container
    status, headers, body = post(
        frontend.url + "/v1/audio/speech",
        {
            "model": "tts-1",
            "input": "欢迎使用中文语音合成服务。",
            "voice": "alloy",
            "response_format": "wav",
        },
    )
    assert status == 200 and sf.info(io.BytesIO(body)).duration > 0.5


# Each produced a chunk the model refuses (257-758 symbols) while chunks were sized by
# characters only; the whole request was then a 400 text_rejected.
LONG_TOKENS = ["电话号码是" + "8" * 100 + "。", "这个单词是" + "x" * 40 + "。"]


def test_voices_and_tokens_longer_than_the_model_takes(frontend: FrontendProcess) -> None:
    with urllib.request.urlopen(frontend.url + "/v1/voices", timeout=30) as response:
        catalogue = json.loads(response.read())
    voices = {v["name"]: v for v in catalogue["voices"]}
    default = voices[catalogue["default"]]
    assert default["sample_rate"] > 0 and default["default_speaker"] in default["speakers"]
    status, headers, body = post(
        frontend.url + "/v1/tts",
        {"text": "你好。", "voice": default["name"], "speaker": default["default_speaker"]},
    )
    assert status == 200 and headers["X-Voice"] == default["name"]
    assert int(headers["X-Sample-Rate"]) == default["sample_rate"]
    assert sf.info(io.BytesIO(body)).samplerate == default["sample_rate"]
    for text in LONG_TOKENS:
        status, headers, body = post(frontend.url + "/v1/tts", {"text": text})
        assert status == 200, body[:300]
        assert int(headers["X-Chunks"]) >= 2
        assert sf.info(io.BytesIO(body)).duration > 5.0


def test_triton_unavailable_gives_503_with_retry_advice(tmp_path: Path) -> None:
    dead = FrontendProcess(f"127.0.0.1:{free_port()}", "--triton-timeout-s", "5", log_dir=tmp_path)
    dead.start(wait_ready=False)
    try:
        assert dead.get_status("/healthz") == 503
        status, headers, body = post(dead.url + "/v1/tts", {"text": "你好。"})
        assert status == 503 and int(headers["Retry-After"]) > 0
        assert json.loads(body)["error"]["code"] in ("backend_unavailable", "backend_timeout")
        assert dead.get_status("/healthz") == 503  # still answering
    finally:
        dead.stop()


def test_overload_gives_429_and_recovers(triton_server: Any, tmp_path: Path) -> None:
    busy = FrontendProcess(
        triton_server.grpc_url, "--max-active-requests", "1", log_dir=tmp_path
    ).start()
    try:
        # A long streamed request that we stop reading: it stays active (the server waits on
        # the full socket) for as long as we hold the connection.  Closing it abandons chunks
        # in flight; cancelling those gRPC calls crashed tritonserver 2.51 (SIGSEGV) before the
        # frontend stopped cancelling, and the requests after this one then failed with 503.
        text = ((_long_text() + "\n") * 9)[:5000]  # cached chunks: fills the socket quickly
        body = json.dumps({"text": text, "stream": True}).encode("utf-8")
        held = http.client.HTTPConnection("127.0.0.1", busy.port, timeout=600)
        held.request("POST", "/v1/tts", body, {"Content-Type": "application/json"})
        response = held.getresponse()
        assert response.status == 200 and response.read(1024)
        status, headers, refused = post(busy.url + "/v1/tts", {"text": "你好。"})
        held.close()
        assert status == 429, refused[:300]
        assert json.loads(refused)["error"]["code"] == "overloaded" and "Retry-After" in headers
        deadline = time.monotonic() + 120
        while (status := post(busy.url + "/v1/tts", {"text": "你好。"})[0]) == 429:
            assert time.monotonic() < deadline, "the held request never ended"
            time.sleep(0.5)
        assert status == 200
    finally:
        busy.stop()


def test_healthz_and_metrics(frontend: FrontendProcess) -> None:
    assert frontend.get_status("/healthz") == 200
    with urllib.request.urlopen(frontend.url + "/metrics", timeout=30) as response:
        text = response.read().decode()
    for name in (
        "tts_frontend_requests_total",
        "tts_frontend_errors_total",
        "tts_frontend_request_seconds_bucket",
        "tts_frontend_first_audio_seconds_bucket",
        "tts_frontend_audio_seconds_total",
    ):
        assert name in text
