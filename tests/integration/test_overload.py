"""Beyond the bounded queues, requests are rejected at once, and the server recovers."""

import statistics

import pytest
from serving_helpers import concurrent_infer, grpc_text_inputs, model_counts

from mandarin_tts import contract as c
from mandarin_tts.serving.probe import probe
from mandarin_tts.serving.render import load_repository

pytestmark = pytest.mark.integration

TEXT = "好。"  # tiny: the flood must be cheap to serve on 2 cores


def test_overload_is_rejected_fast_and_the_server_recovers(triton_server):
    configs = load_repository(triton_server.repository)
    queue_limit = max(
        configs[m].dynamic_batching.default_queue_policy.max_queue_size
        for m in (c.MODEL_TEXT_FRONTEND, c.MODEL_ACOUSTIC, c.MODEL_VOCODER)
    )
    flood = 3 * queue_limit
    admin = triton_server.grpc_admin_headers
    before = model_counts(triton_server.grpc_url, c.MODEL_ENSEMBLE, admin)
    # Distinct speeds: the response cache must not absorb the flood.
    outcomes = concurrent_infer(
        triton_server.grpc_url,
        c.MODEL_ENSEMBLE,
        [grpc_text_inputs(TEXT, SPEED=0.9 + i * 1e-3) for i in range(flood)],
        timeout_s=300,
    )
    rejected = [o for o in outcomes if o.error is not None]
    served = [o for o in outcomes if o.error is None]
    print(
        f"\n{flood} requests: {len(served)} served, {len(rejected)} rejected; "
        f"rejection latency median {statistics.median(o.seconds for o in rejected):.2f} s, "
        f"max {max(o.seconds for o in rejected):.2f} s; served median latency "
        f"{statistics.median(o.seconds for o in served):.1f} s, max "
        f"{max(o.seconds for o in served):.1f} s"
        if rejected and served
        else f"\n{flood} requests: {len(served)} served, {len(rejected)} rejected"
    )
    assert rejected, "nothing was rejected: the queues are not bounded"
    assert served, "everything was rejected"
    full = [o for o in rejected if "maximum queue size" in o.error.message()]
    timed_out = [o for o in rejected if "timeout" in o.error.message().lower()]
    assert full, "no request was rejected for a full queue"
    assert len(full) + len(timed_out) == len(rejected), [str(o.error) for o in rejected]
    # A request rejected for a full queue is answered without waiting its turn.
    assert statistics.median(o.seconds for o in full) < statistics.median(o.seconds for o in served)
    after = model_counts(triton_server.grpc_url, c.MODEL_ENSEMBLE, admin)
    assert after["fail"] - before["fail"] >= len(rejected)
    probe(triton_server.http_url, "过载之后服务恢复正常。")
