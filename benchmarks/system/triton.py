"""Systems 2 and 3: the Triton `tts` ensemble, with this machine's tier (dynamic batching)
or the same tier rendered with batching off (`render.without_dynamic_batching`).

Requests go over gRPC to a server rendered and started without Triton's response cache
(the eval sentences repeat; at the steps the cache is keyed by symbols and mels, which an
inaudibly different SPEED does not change). Every request still carries its own SPEED. First audio for a long text is
measured through the HTTP frontend (`python -m frontend`), which chunks and streams it.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from mandarin_tts.serving.ephemeral import ephemeral_triton
from mandarin_tts.serving.ports import free_port, wait_http_ok
from mandarin_tts.serving.render import (
    render,
    without_dynamic_batching,
    without_response_cache,
)
from mandarin_tts.serving.tiers import default_tier
from mandarin_tts.serving.tts_inputs import audio_seconds, build_inputs, distinct_speeds
from mandarin_tts.serving.tune.memory import tree_peak_rss_mb

WAV_HEADER_BYTES = 44


class TritonEnsemble:
    def __init__(self, batching: bool = True) -> None:
        self.batching = batching
        self.name = "triton" if batching else "triton_nobatch"
        self.description = "Triton, dynamic batching" if batching else "Triton, no batching"
        self._speeds = distinct_speeds()
        self._work = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-"))
        self._frontend: subprocess.Popen[bytes] | None = None
        self._server = contextlib.ExitStack()

    def _repository(self) -> Path:
        # No response cache: the eval sentences repeat, and a cached answer is no synthesis.
        tier = without_response_cache(default_tier())
        if not self.batching:
            tier = without_dynamic_batching(tier)
        return render(tier, self._work / "repository")

    def start(self) -> None:
        import tritonclient.grpc as grpcclient

        self.process = self._server.enter_context(
            ephemeral_triton(self._repository(), self._work, cache_bytes=0)
        )
        self._client_module = grpcclient
        self._client = grpcclient.InferenceServerClient(self.process.grpc_url)

    def synthesize(self, text: str) -> float:
        inputs = build_inputs(self._client_module, text, next(self._speeds))
        result = self._client.infer("tts", inputs, client_timeout=300)
        return audio_seconds(result)[0]

    def peak_memory_mb(self) -> float:
        assert self.process.proc is not None
        return tree_peak_rss_mb(self.process.proc.pid)

    def first_audio_s(self, text: str) -> float:
        """Stream `text` through the HTTP frontend; seconds until the first PCM bytes."""
        port = free_port()
        self._frontend = subprocess.Popen(
            [sys.executable, "-m", "frontend", "--port", str(port)]
            + ["--triton-grpc", self.process.grpc_url, "--log-level", "WARNING"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http_ok(f"http://127.0.0.1:{port}/healthz", 120, lambda: self._frontend.poll() is None)  # type: ignore[union-attr]
        body = json.dumps({"text": text, "stream": True, "speed": 1.0 + 0.5**10}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/tts", body, {"Content-Type": "application/json"}
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:
            received = 0
            while received <= WAV_HEADER_BYTES:
                piece = response.read1(65536)
                if not piece:
                    break
                received += len(piece)
            # Hang up after the first audio: the rest is total time, not first audio, and
            # the server is stopped next anyway.
            return time.perf_counter() - start

    def stop(self) -> None:
        if self._frontend is not None and self._frontend.poll() is None:
            self._frontend.terminate()
            self._frontend.wait(timeout=30)
        self._server.close()  # stops the server if start() got that far
