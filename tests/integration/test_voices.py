"""Three voices through one tritonserver: the bundled one, a stand-in second voice added by
writing a folder (manifest + ONNX files, no Python edited), and a tiny random-weight Sambert
voice written in ModelScope/KAN-TTS's layout and imported with the voices CLI."""

from __future__ import annotations

import io
import json
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import replace

import numpy as np
import pytest
import soundfile
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from frontend_process_helpers import FrontendProcess
from serving_helpers import concurrent_infer, delta, model_counts
from tritonclient.utils import InferenceServerException

from mandarin_tts import contract as c
from mandarin_tts.serving.dev_models import SAMPLES_PER_FRAME, write_standins
from mandarin_tts.serving.ephemeral import ephemeral_triton
from mandarin_tts.serving.render import load_repository, parse_config, render
from mandarin_tts.serving.server import GRPC_ADMIN_HEADER
from mandarin_tts.serving.tiers import get_tier
from mandarin_tts.serving.tts_inputs import build_inputs, result_audio
from mandarin_tts.voices.manifest import load_manifest, write_manifest
from mandarin_tts.voices.registry import VOICES_DIR_ENV, installed_voices

pytestmark = pytest.mark.integration

STANDIN = "standin"
SAMBERT = "kefu"
SAMBERT_SPEAKERS = ("F7", "M1")


def write_standin_voice(voices_dir):
    folder = write_standins(voices_dir / STANDIN)
    manifest = replace(
        load_manifest(folder),
        name=STANDIN,
        speakers=("s1", "s2"),
        default_speaker="s1",
        emotions=("neutral", "calm"),
        controls=("speed",),
        licence="test stand-in",
        source="mandarin_tts.serving.dev_models",
    )
    write_manifest(manifest, folder)


def import_tiny_sambert(tmp, voices_dir):
    """The two commands a user runs: a KAN-TTS voice folder, then the importer."""
    kantts_folder = tmp / "kantts_voice"
    run = [sys.executable, "-m"]
    subprocess.run(
        [
            *run,
            "mandarin_tts.kantts.tiny_voice",
            str(kantts_folder),
            "--speakers",
            ",".join(SAMBERT_SPEAKERS),
        ],
        check=True,
    )
    subprocess.run(
        [
            *run,
            "mandarin_tts.voices",
            "import",
            str(kantts_folder),
            "--out",
            str(voices_dir / SAMBERT),
        ],
        check=True,
    )


def without_response_cache(repo):
    """Equal requests must reach the models (the tests compare batched with alone)."""
    for name, config in load_repository(repo).items():
        if config.platform == "ensemble":
            path = repo / name / "config.pbtxt"
            text = path.read_text().replace("response_cache {\n  enable: true\n}", "")
            assert not parse_config(text).response_cache.enable
            path.write_text(text)


@pytest.fixture(scope="module")
def voices_server(tmp_path_factory):
    from mandarin_tts.build.__main__ import build

    build()  # the bundled voice (a no-op when the cache is current)
    tmp = tmp_path_factory.mktemp("voices")
    voices_dir = tmp / "installed"
    write_standin_voice(voices_dir)
    import_tiny_sambert(tmp, voices_dir)
    admin_key = secrets.token_hex(8)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(VOICES_DIR_ENV, str(voices_dir))  # tritonserver's stubs inherit it
        voices = installed_voices()
        assert list(voices) == ["baker", SAMBERT, STANDIN]
        repo = render(get_tier("cpu-2"), tmp_path_factory.mktemp("repo"), voices.values())
        without_response_cache(repo)
        with ephemeral_triton(repo, tmp / "triton", admin_key=admin_key) as server:
            server.grpc_admin_headers = {GRPC_ADMIN_HEADER: admin_key}
            server.voices_dir = voices_dir
            yield server


@pytest.fixture(scope="module")
def voices_frontend(voices_server, tmp_path_factory):
    """The HTTP frontend as `make serve` starts it, reading the same voices folder."""
    proc = FrontendProcess(
        voices_server.grpc_url,
        "--voices-dir",
        str(voices_server.voices_dir),
        log_dir=tmp_path_factory.mktemp("frontend"),
    )
    try:
        yield proc.start()
    except Exception:
        print(proc.log_tail())
        raise
    finally:
        proc.stop()


def post(frontend, path, body):
    request = urllib.request.Request(
        frontend.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def infer(server, model, text, **controls):
    client = httpclient.InferenceServerClient(server.http_url, network_timeout=120)
    try:
        return result_audio(client.infer(model, build_inputs(httpclient, text, **controls)))
    finally:
        client.close()


def test_each_request_reaches_the_voice_it_names(voices_server):
    standin, rate = infer(voices_server, "tts_standin", "你好。", speaker="s2", emotion="calm")
    # The stand-in maps every symbol to 4 frames of 200 samples: not the real model's length.
    assert rate == c.OUTPUT_SAMPLE_RATE
    assert standin.size % SAMPLES_PER_FRAME == 0
    real, _ = infer(voices_server, "tts", "你好。")
    assert real.size != standin.size
    assert float(np.sqrt(np.mean(real**2))) > 1e-3
    sambert, rate = infer(voices_server, "tts_kefu", "你好。", speaker="M1", emotion="happy")
    assert rate == 16_000 and sambert.size > 0 and np.isfinite(sambert).all()


@pytest.mark.parametrize(
    ("model", "controls", "message"),
    [
        ("tts", {"speaker": "s2"}, "voice 'baker' has no speaker 's2'; choose one of: baker"),
        ("tts_standin", {"emotion": "angry"}, "choose one of: neutral, calm"),
        ("tts_standin", {"pitch": 1.3}, "has no pitch control; it supports: speed"),
        ("tts_kefu", {"speaker": "F8"}, "voice 'kefu' has no speaker 'F8'; choose one of: F7, M1"),
        ("tts_kefu", {"emotion": "placeholder1"}, "voice 'kefu' has no emotion 'placeholder1'"),
        ("tts_kefu", {"energy": 1.5}, "has no energy control; it supports: speed"),
    ],
)
def test_a_choice_the_voice_lacks_is_a_client_error(voices_server, model, controls, message):
    with pytest.raises(InferenceServerException) as error:
        infer(voices_server, model, "你好。", **controls)
    assert "400" in str(error.value.status())
    assert message in error.value.message()


def sambert_jobs():
    texts = [
        "你好。",
        "今天天气很好，我们去公园散步吧。",
        "欢迎致电客服中心。",
        "一二三。",
        "请稍候，正在为您转接人工服务。",
        "好的。",
    ]
    emotions = ("neutral", "happy", "sad")
    return [
        (text, SAMBERT_SPEAKERS[i % 2], emotions[i % 3], 1.0 + 0.1 * (i % 3))
        for i, text in enumerate(texts)
    ]


def grpc_request(text, speaker, emotion, speed):
    return build_inputs(grpcclient, text, speed, speaker=speaker, emotion=emotion)


def test_sambert_requests_batch_and_equal_the_same_requests_alone(voices_server):
    jobs = sambert_jobs()
    url, headers = voices_server.grpc_url, voices_server.grpc_admin_headers
    alone = []
    for job in jobs:
        (outcome,) = concurrent_infer(url, "tts_kefu", [grpc_request(*job)])
        assert outcome.error is None, outcome.error
        alone.append(result_audio(outcome.result)[0])
    before = model_counts(url, "kefu_acoustic", headers)
    together = concurrent_infer(url, "tts_kefu", [grpc_request(*job) for job in jobs])
    counts = delta(model_counts(url, "kefu_acoustic", headers), before)
    assert counts["inferences"] == len(jobs)
    assert counts["executions"] < len(jobs), counts  # the decoder stepped several at once
    for job, a, outcome in zip(jobs, alone, together, strict=True):
        assert outcome.error is None, outcome.error
        b, _ = result_audio(outcome.result)
        assert a.shape == b.shape, job
        np.testing.assert_allclose(b, a, atol=1e-4, err_msg=str(job))


def test_concurrent_requests_for_all_voices_at_once(voices_server):
    url = voices_server.grpc_url
    work = [
        ("tts", build_inputs(grpcclient, "今天是2024年3月5日。")),
        ("tts_standin", build_inputs(grpcclient, "你好。", speaker="s2")),
    ]
    work += [("tts_kefu", grpc_request(*job)) for job in sambert_jobs()[:3]]
    results = {}

    def run(model, inputs, i):
        results[i] = concurrent_infer(url, model, [inputs])[0]

    threads = [threading.Thread(target=run, args=(m, x, i)) for i, (m, x) in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert len(results) == len(work)
    for i, (model, _) in enumerate(work):
        assert results[i].error is None, (model, results[i].error)
        audio, rate = result_audio(results[i].result)
        assert audio.size > 0 and rate == c.OUTPUT_SAMPLE_RATE


def test_the_frontend_lists_routes_and_refuses_by_voice(voices_frontend):
    with urllib.request.urlopen(voices_frontend.url + "/v1/voices", timeout=30) as response:
        listing = json.loads(response.read())
    by_name = {v["name"]: v for v in listing["voices"]}
    assert listing["default"] == "baker" and set(by_name) == {"baker", SAMBERT, STANDIN}
    assert by_name[SAMBERT]["speakers"] == list(SAMBERT_SPEAKERS)
    assert "happy" in by_name[SAMBERT]["emotions"] and by_name[SAMBERT]["controls"] == ["speed"]
    assert "non-commercial" in by_name["baker"]["licence"]

    text = "您好，欢迎致电。"
    status, headers, wav = post(
        voices_frontend,
        "/v1/tts",
        {"text": text, "voice": SAMBERT, "speaker": "M1", "emotion": "sad"},
    )
    assert status == 200, wav[:300]
    audio, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    assert rate == by_name[SAMBERT]["sample_rate"] and audio.size > 0
    assert headers.get("X-Voice") == SAMBERT
    status, _, wav = post(voices_frontend, "/v1/tts", {"text": text})
    assert status == 200
    baker_audio, _ = soundfile.read(io.BytesIO(wav), dtype="float32")
    assert baker_audio.size != audio.size  # another voice answered

    status, _, body = post(voices_frontend, "/v1/tts", {"text": text, "voice": "nobody"})
    assert status == 400
    message = json.loads(body)["error"]["message"]
    assert "nobody" in message and all(name in message for name in by_name)
    status, _, body = post(
        voices_frontend, "/v1/tts", {"text": text, "voice": SAMBERT, "speaker": "F9"}
    )
    assert status == 400 and "F7, M1" in json.loads(body)["error"]["message"]
    status, _, body = post(
        voices_frontend, "/v1/audio/speech", {"input": text, "voice": SAMBERT, "model": "tts-1"}
    )
    assert status == 200
