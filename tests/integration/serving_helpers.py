"""Small clients for the serving integration tests (HTTP/gRPC requests, statistics)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import numpy as np
import tritonclient.grpc as grpcclient

from mandarin_tts import contract as c

# What the session's deployment lexicon file (conftest.py) holds between the tests that
# write entries into it.
EMPTY_LEXICON = "# test deployment lexicon: entries are written by the test that needs them\n"
BASE_TEXT = "今天天气很好我们一起去公园散步然后再去图书馆看书晚上回家做饭吃饭休息一下"


def sentences(count: int, max_chars: int = 8) -> list[str]:
    """`count` different sentences of 1..max_chars Han characters (short: 2 CPU cores)."""
    texts = []
    for i in range(count):
        n = 1 + (i // 2) % max_chars
        start = (i % 2) * 20 + (i // (2 * max_chars))
        texts.append(BASE_TEXT[start : start + n] + "。")
    return texts


def http_json_infer(http_url: str, model: str, payload: dict, timeout: float = 120) -> tuple:
    """POST a KServe v2 JSON request, as curl would; returns (status, parsed body)."""
    req = urllib.request.Request(
        f"http://{http_url}/v2/models/{model}/infer",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def text_payload(text: str, **scales: float) -> dict:
    inputs = [{"name": c.TTS_IN_TEXT, "shape": [1, 1], "datatype": "BYTES", "data": [text]}]
    for name, value in scales.items():
        inputs.append({"name": name, "shape": [1, 1], "datatype": "FP32", "data": [value]})
    return {"inputs": inputs}


def grpc_text_inputs(text: str | bytes, **scales: float) -> list:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    text_in = grpcclient.InferInput(c.TTS_IN_TEXT, [1, 1], "BYTES")
    text_in.set_data_from_numpy(np.array([[raw]], dtype=object))
    inputs = [text_in]
    for name, value in scales.items():
        scale = grpcclient.InferInput(name, [1, 1], "FP32")
        scale.set_data_from_numpy(np.array([[value]], dtype=np.float32))
        inputs.append(scale)
    return inputs


@dataclass
class Outcome:
    index: int
    result: object | None
    error: Exception | None
    seconds: float


def concurrent_infer(
    grpc_url: str, model: str, requests: list[list], timeout_s: float = 300.0
) -> list[Outcome]:
    """Send all requests at once (async gRPC) and wait for every answer."""
    outcomes: list[Outcome | None] = [None] * len(requests)
    remaining = [len(requests)]
    lock = threading.Lock()
    done = threading.Event()
    client = grpcclient.InferenceServerClient(grpc_url)
    try:
        for i, inputs in enumerate(requests):
            sent = time.monotonic()

            def callback(result, error, i=i, start=sent):
                with lock:
                    outcomes[i] = Outcome(i, result, error, time.monotonic() - start)
                    remaining[0] -= 1
                    if remaining[0] == 0:
                        done.set()

            client.async_infer(model, inputs, callback=callback, client_timeout=timeout_s)
        assert done.wait(timeout_s + 10), f"{remaining[0]} requests never answered"
    finally:
        client.close()
    return [o for o in outcomes if o is not None]


def model_counts(grpc_url: str, model: str, headers: dict[str, str]) -> dict[str, int]:
    """Triton's per-model counters; `statistics` is an admin API: pass grpc_admin_headers."""
    with grpcclient.InferenceServerClient(grpc_url) as client:
        reply = client.get_inference_statistics(model, headers=headers, as_json=True)
    stats = reply["model_stats"][0]
    inference = stats.get("inference_stats", {})
    return {
        "inferences": int(stats.get("inference_count", 0)),
        "executions": int(stats.get("execution_count", 0)),
        "success": int(inference.get("success", {}).get("count", 0)),
        "fail": int(inference.get("fail", {}).get("count", 0)),
        "cache_hit": int(inference.get("cache_hit", {}).get("count", 0)),
        "cache_miss": int(inference.get("cache_miss", {}).get("count", 0)),
    }


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after}
