"""Bad input gets its own INVALID_ARG; it never crashes a model or fails its batch-mates."""

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from serving_helpers import (
    concurrent_infer,
    grpc_text_inputs,
    http_json_infer,
    sentences,
    text_payload,
)

from mandarin_tts import contract as c
from mandarin_tts.serving.probe import probe

pytestmark = pytest.mark.integration

BAD_TEXTS = {
    "empty": b"",
    "punctuation only": "。，！？……".encode(),
    "over the limit": ("你" * (c.TEXT_MAX_CHARS + 1)).encode(),
    "invalid utf-8": b"\xff\xfe\xfa\x80abc",
    "only emoji": "😀🎉👍".encode(),
    "a million characters": ("好" * 1_000_000).encode(),
}


@pytest.mark.parametrize("name", list(BAD_TEXTS))
def test_bad_text_is_invalid_argument_over_grpc(triton_server, name):
    with (
        grpcclient.InferenceServerClient(triton_server.grpc_url) as client,
        pytest.raises(grpcclient.InferenceServerException) as err,
    ):
        client.infer(c.MODEL_ENSEMBLE, grpc_text_inputs(BAD_TEXTS[name]), client_timeout=120)
    assert err.value.status() == "StatusCode.INVALID_ARGUMENT", err.value
    assert len(err.value.message()) > 10


def test_bad_text_is_400_over_http(triton_server):
    status, body = http_json_infer(triton_server.http_url, c.MODEL_ENSEMBLE, text_payload("！！！"))
    assert status == 400, body
    assert body.get("error")


def test_out_of_range_scale_is_invalid_argument(triton_server):
    with (
        grpcclient.InferenceServerClient(triton_server.grpc_url) as client,
        pytest.raises(grpcclient.InferenceServerException) as err,
    ):
        client.infer(c.MODEL_ENSEMBLE, grpc_text_inputs("你好。", PITCH=5.0))
    assert err.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "PITCH" in err.value.message()


def test_a_bad_request_in_a_batch_fails_alone(triton_server):
    texts = sentences(8)
    requests = [grpc_text_inputs(t) for t in texts]
    requests.insert(4, grpc_text_inputs(BAD_TEXTS["only emoji"]))
    requests.insert(6, grpc_text_inputs(BAD_TEXTS["invalid utf-8"]))
    outcomes = concurrent_infer(triton_server.grpc_url, c.MODEL_ENSEMBLE, requests)
    failed = [o.index for o in outcomes if o.error is not None]
    assert failed == [4, 6], [str(o.error) for o in outcomes if o.error]
    for o in outcomes:
        if o.error is not None:
            assert o.error.status() == "StatusCode.INVALID_ARGUMENT"


def _acoustic_inputs(ids, speed=1.0):
    ids_in = grpcclient.InferInput(c.AC_IN_IDS, [1, len(ids)], "INT64")
    ids_in.set_data_from_numpy(np.array([ids], dtype=np.int64))
    speed_in = grpcclient.InferInput(c.AC_IN_SPEED, [1, 1], "FP32")
    speed_in.set_data_from_numpy(np.array([[speed]], dtype=np.float32))
    return [ids_in, speed_in]


def test_a_bad_request_in_an_acoustic_batch_fails_alone(triton_server):
    good = [_acoustic_inputs(list(range(10, 10 + n))) for n in (5, 12, 20)]
    bad = [_acoustic_inputs([11, -3, 12]), _acoustic_inputs([11, 12], speed=float("nan"))]
    outcomes = concurrent_infer(
        triton_server.grpc_url, c.MODEL_ACOUSTIC, [good[0], bad[0], good[1], bad[1], good[2]]
    )
    assert [o.error is not None for o in outcomes] == [False, True, False, True, False]
    for o in (outcomes[1], outcomes[3]):
        assert o.error.status() == "StatusCode.INVALID_ARGUMENT"
    for o in (outcomes[0], outcomes[2], outcomes[4]):
        mel = o.result.as_numpy(c.AC_OUT_MEL)
        assert mel.shape[0] == 1 and mel.shape[2] == c.N_MELS and mel.shape[1] > 0


def test_server_still_synthesizes_after_bad_input(triton_server):
    probe(triton_server.http_url, "错误输入之后服务仍然正常。")
