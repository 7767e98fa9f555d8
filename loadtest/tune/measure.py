"""Measure one candidate tier: render it, start tritonserver on free ports, check one
synthesis, warm up every instance, run `make bench`'s closed loop at one concurrency, stop.

Requests carry distinct SPEED values (as in loadtest.bench.triton) so that Triton's
response cache never answers and every request costs the full pipeline.
"""

from __future__ import annotations

import itertools
import math
import shutil
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest.bench.load import LevelPlan, run_level
from loadtest.bench.memory import tree_peak_rss_mb
from loadtest.bench.stats import LevelResult
from loadtest.bench.system import free_port
from loadtest.bench.triton import SPEED_STEP
from loadtest.tune.objective import Measurement
from loadtest.users.triton_inputs import audio_seconds, build_inputs
from mandarin_tts import contract as c
from mandarin_tts.serving.probe import probe
from mandarin_tts.serving.render import render
from mandarin_tts.serving.server import ServerOptions, TritonProcess
from mandarin_tts.serving.tiers import Tier

REQUEST_TIMEOUT_S = 300


@dataclass(frozen=True)
class LoadSettings:
    concurrency: int = 8
    seconds: float = 20.0  # stop issuing requests after this ...
    min_requests: int = 16  # ... but not before this many were issued
    max_requests: int = 2000
    warmup_rounds: int = 1  # closed-loop rounds of `concurrency` requests before measuring
    start_timeout_s: float = 300.0

    @property
    def plan(self) -> LevelPlan:
        return LevelPlan(self.seconds, self.min_requests, self.max_requests)


class TierServer:
    """A tritonserver serving one candidate tier from a throw-away repository."""

    def __init__(self, tier: Tier, work_dir: Path) -> None:
        self.tier = tier
        self.work_dir = work_dir
        self._speeds = itertools.count(1)
        self.process = TritonProcess(
            ServerOptions(
                repository=work_dir / "repository",
                http_port=free_port(),
                grpc_port=free_port(),
                metrics_port=free_port(),
                cache_bytes=tier.cache_mb * 1024 * 1024,
            ),
            log_path=work_dir / "tritonserver.log",
            work_dir=work_dir / "install",
        )

    def start(self, timeout_s: float) -> None:
        import tritonclient.grpc as grpcclient

        render(self.tier, self.work_dir / "repository")
        self.process.start()
        self.process.wait_ready(timeout_s=timeout_s)
        probe(self.process.http_url)
        self._grpc = grpcclient
        self._client = grpcclient.InferenceServerClient(self.process.grpc_url)

    def synthesize(self, text: str) -> float:
        speed = 1.0 + next(self._speeds) * SPEED_STEP
        inputs = build_inputs(self._grpc, text, speed)
        result = self._client.infer(c.MODEL_ENSEMBLE, inputs, client_timeout=REQUEST_TIMEOUT_S)
        return audio_seconds(result)[0]

    def peak_memory_mb(self) -> float:
        return tree_peak_rss_mb(self.process.proc.pid) if self.process.proc else math.nan

    def stop(self) -> None:
        if hasattr(self, "_client"):
            self._client.close()
        self.process.stop()


@dataclass(frozen=True)
class TierFigures:
    result: LevelResult  # the closed loop at `load.concurrency`
    peak_memory_mb: float  # server + stubs, an upper bound (bench.memory)
    setup_s: float  # start + probe + warm-up


def measure_tier(
    tier: Tier, texts: Sequence[str], load: LoadSettings, work_dir: Path
) -> TierFigures:
    server = TierServer(tier, work_dir)
    started = time.perf_counter()
    try:
        server.start(load.start_timeout_s)
        rounds = load.warmup_rounds * load.concurrency
        if rounds:
            run_level(server.synthesize, texts, load.concurrency, LevelPlan(0.0, rounds, rounds))
        setup_s = time.perf_counter() - started
        result = run_level(server.synthesize, texts, load.concurrency, load.plan)
        return TierFigures(result, server.peak_memory_mb(), setup_s)
    finally:
        server.stop()


@dataclass
class CandidateMeter:
    """The `Measure` the search calls: one fresh server per candidate, logs kept on failure."""

    texts: Sequence[str]
    load: LoadSettings
    keep_logs_in: Path | None = None

    def __call__(self, index: int, stage: str, tier: Tier) -> Measurement:
        work = Path(tempfile.mkdtemp(prefix=f"tune-{tier.name}-{index}-"))
        try:
            figures = measure_tier(tier, self.texts, self.load, work)
            return Measurement(
                index, stage, tier, figures.result, figures.peak_memory_mb, figures.setup_s
            )
        except Exception as error:  # noqa: BLE001 - a broken candidate is a result, not a crash
            traceback.print_exc()
            self._keep_log(index, work)
            return Measurement(
                index, stage, tier, None, error=f"{type(error).__name__}: {error}"[:300]
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _keep_log(self, index: int, work: Path) -> None:
        log = work / "tritonserver.log"
        if self.keep_logs_in is not None and log.exists():
            self.keep_logs_in.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, self.keep_logs_in / f"candidate-{index}.log")
