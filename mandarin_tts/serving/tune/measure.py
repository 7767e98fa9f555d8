"""Measure one candidate tier: render it, start tritonserver on free ports, check one
synthesis, warm up every instance, run `make bench`'s closed loop at one concurrency, stop.

Requests carry distinct SPEED values (tts_inputs.distinct_speeds) so that Triton's
response cache never answers and every request costs the full pipeline.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mandarin_tts import contract as c
from mandarin_tts.serving.ephemeral import ephemeral_triton
from mandarin_tts.serving.render import render, without_response_cache
from mandarin_tts.serving.server import TritonProcess
from mandarin_tts.serving.tiers import Tier
from mandarin_tts.serving.tts_inputs import audio_seconds, build_inputs, distinct_speeds
from mandarin_tts.serving.tune.load import LevelPlan, run_level
from mandarin_tts.serving.tune.memory import tree_peak_rss_mb
from mandarin_tts.serving.tune.objective import Measurement
from mandarin_tts.serving.tune.stats import LevelResult

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


class TierClient:
    """Closed-loop requests to the server of one candidate tier (gRPC, distinct speeds)."""

    def __init__(self, process: TritonProcess) -> None:
        import tritonclient.grpc as grpcclient

        self.process = process
        self._speeds = distinct_speeds()
        self._grpc = grpcclient
        self._client = grpcclient.InferenceServerClient(process.grpc_url)

    def synthesize(self, text: str) -> float:
        inputs = build_inputs(self._grpc, text, next(self._speeds))
        result = self._client.infer(c.MODEL_ENSEMBLE, inputs, client_timeout=REQUEST_TIMEOUT_S)
        return audio_seconds(result)[0]

    def peak_memory_mb(self) -> float:
        return tree_peak_rss_mb(self.process.proc.pid) if self.process.proc else math.nan

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True)
class TierFigures:
    result: LevelResult  # the closed loop at `load.concurrency`
    peak_memory_mb: float  # server + stubs, an upper bound (bench.memory)
    setup_s: float  # start + probe + warm-up


def measure_tier(
    tier: Tier, texts: Sequence[str], load: LoadSettings, work_dir: Path
) -> TierFigures:
    started = time.perf_counter()
    # Measured uncached: the texts repeat across rounds, and the vocoder's cache would
    # answer them (its key, the mel, does not change with an inaudibly different speed).
    repository = render(without_response_cache(tier), work_dir / "repository")
    with (
        ephemeral_triton(
            repository,
            work_dir,
            cache_bytes=0,
            ready_timeout_s=load.start_timeout_s,
        ) as process,
        contextlib.closing(TierClient(process)) as client,
    ):
        rounds = load.warmup_rounds * load.concurrency
        if rounds:
            run_level(client.synthesize, texts, load.concurrency, LevelPlan(0.0, rounds, rounds))
        setup_s = time.perf_counter() - started
        result = run_level(client.synthesize, texts, load.concurrency, load.plan)
        return TierFigures(result, client.peak_memory_mb(), setup_s)


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
