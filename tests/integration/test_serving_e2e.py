"""The `tts` ensemble answers over KServe v2 HTTP (JSON, as curl) and gRPC with speech."""

import json
import urllib.error
import urllib.request

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from serving_helpers import grpc_text_inputs, http_json_infer, model_counts, text_payload
from tritonclient.utils import InferenceServerException

from mandarin_tts import contract as c
from mandarin_tts.serving.probe import Synthesis, check_speech
from mandarin_tts.serving.render import COMMITTED_REPOSITORY, load_repository

pytestmark = pytest.mark.integration

SENTENCE = "欢迎致电客服中心，查询余额请按一。"


def test_http_json_request_returns_mandarin_speech(triton_server):
    status, body = http_json_infer(triton_server.http_url, c.MODEL_ENSEMBLE, text_payload(SENTENCE))
    assert status == 200, body
    outputs = {o["name"]: o for o in body["outputs"]}
    audio = np.array(outputs[c.TTS_OUT_AUDIO]["data"], dtype=np.float32)
    assert outputs[c.TTS_OUT_AUDIO]["shape"] == [1, audio.size]
    rate = outputs[c.TTS_OUT_SAMPLE_RATE]["data"][0]
    check_speech(Synthesis(audio, rate), SENTENCE)


def test_grpc_request_returns_mandarin_speech_and_honours_speed(triton_server):
    with grpcclient.InferenceServerClient(triton_server.grpc_url) as client:
        normal = client.infer(c.MODEL_ENSEMBLE, grpc_text_inputs(SENTENCE), client_timeout=120)
        fast = client.infer(
            c.MODEL_ENSEMBLE, grpc_text_inputs(SENTENCE, SPEED=2.0), client_timeout=120
        )
    audio = normal.as_numpy(c.TTS_OUT_AUDIO).reshape(-1)
    rate = int(normal.as_numpy(c.TTS_OUT_SAMPLE_RATE).reshape(-1)[0])
    check_speech(Synthesis(audio, rate), SENTENCE)
    fast_audio = fast.as_numpy(c.TTS_OUT_AUDIO).reshape(-1)
    assert fast_audio.size < 0.75 * audio.size


def test_text_frontend_debug_output_shows_normalization(triton_server):
    with grpcclient.InferenceServerClient(triton_server.grpc_url) as client:
        result = client.infer(
            c.MODEL_TEXT_FRONTEND, grpc_text_inputs("我有3个苹果。"), client_timeout=60
        )
    normalized, phonemes = (s.decode() for s in result.as_numpy("DEBUG").reshape(-1))
    assert "三" in normalized
    assert phonemes.strip()
    ids = result.as_numpy(c.AC_IN_IDS)
    assert ids.dtype == np.int64 and ids.shape[0] == 1 and ids.shape[1] > 5


def test_served_repository_is_the_committed_cpu2_render(triton_server):
    assert triton_server.repository.resolve() == COMMITTED_REPOSITORY.resolve()
    committed = load_repository(COMMITTED_REPOSITORY)
    with grpcclient.InferenceServerClient(triton_server.grpc_url) as client:
        for name, config in committed.items():
            served = client.get_model_config(name, headers=triton_server.grpc_admin_headers).config
            assert served.max_batch_size == config.max_batch_size, name
            assert [i.name for i in served.input] == [i.name for i in config.input], name
            if config.platform != "ensemble":
                assert served.instance_group[0].count == config.instance_group[0].count
                assert (
                    served.dynamic_batching.default_queue_policy
                    == config.dynamic_batching.default_queue_policy
                ), name


def test_admin_apis_need_the_admin_header(triton_server):
    with grpcclient.InferenceServerClient(triton_server.grpc_url) as client:
        with pytest.raises(InferenceServerException):
            client.get_model_config(c.MODEL_ENSEMBLE)
        with pytest.raises(InferenceServerException):
            client.get_model_repository_index()
        with pytest.raises(InferenceServerException):
            client.get_inference_statistics(c.MODEL_ENSEMBLE)
        assert client.is_server_ready()  # health stays open
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"http://{triton_server.http_url}/v2/models/tts/config", timeout=10)
    assert err.value.code == 403
    req = urllib.request.Request(
        f"http://{triton_server.http_url}/v2/models/tts/config", headers=triton_server.admin_headers
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["name"] == c.MODEL_ENSEMBLE


def test_repeated_prompt_is_served_from_the_response_cache(triton_server):
    prompt = "您好，请问有什么可以帮您？"
    url = triton_server.grpc_url
    admin = triton_server.grpc_admin_headers
    before_tts, before_ac = (
        model_counts(url, "tts", admin),
        model_counts(url, c.MODEL_ACOUSTIC, admin),
    )
    with grpcclient.InferenceServerClient(url) as client:
        first = client.infer(c.MODEL_ENSEMBLE, grpc_text_inputs(prompt), client_timeout=120)
        mid_ac = model_counts(url, c.MODEL_ACOUSTIC, admin)
        again = [
            client.infer(c.MODEL_ENSEMBLE, grpc_text_inputs(prompt), client_timeout=120)
            for _ in range(3)
        ]
    after_tts, after_ac = (
        model_counts(url, "tts", admin),
        model_counts(url, c.MODEL_ACOUSTIC, admin),
    )
    assert mid_ac["inferences"] - before_ac["inferences"] == 1
    assert after_ac["inferences"] == mid_ac["inferences"]  # not recomputed
    assert after_tts["cache_hit"] - before_tts["cache_hit"] == 3
    assert after_tts["cache_miss"] - before_tts["cache_miss"] == 1
    for result in again:
        np.testing.assert_array_equal(
            result.as_numpy(c.TTS_OUT_AUDIO), first.as_numpy(c.TTS_OUT_AUDIO)
        )


def test_metrics_endpoint_reports_inference_counts(triton_server):
    with urllib.request.urlopen(f"http://{triton_server.metrics_url}/metrics", timeout=10) as r:
        text = r.read().decode()
    assert 'nv_inference_count{model="tts"' in text
    assert "nv_cache_num_hits_per_model" in text or "nv_cache" in text
