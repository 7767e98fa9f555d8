"""Locust load test of the Mandarin TTS service: Triton gRPC, Triton HTTP and the frontend API.

    locust -f loadtest/locustfile.py --headless -u 4 -r 2 -t 60s --host http://127.0.0.1:8080 \
        --csv out/loadtest/tts --html out/loadtest/tts.html --slo-p95-ms 20000

FrontendUser always runs (against --host). TritonHttpUser / TritonGrpcUser run only when
TTS_TRITON_HTTP_URL / TTS_TRITON_GRPC_URL are set (e.g. 127.0.0.1:8000 / 127.0.0.1:8001):
in a deployment Triton is reachable only from the frontend. Name classes on the command
line to run a subset. docs/loadtest.md has the options, the SLO gate and distributed mode.
"""

from __future__ import annotations

import csv
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

# locust puts this file's folder on sys.path; the project root is needed for the packages.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import gevent  # noqa: E402
from locust import User, between, events, task  # noqa: E402
from locust.runners import MasterRunner, WorkerRunner  # noqa: E402
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV  # noqa: E402

from frontend.chunking import HARD_MAX_CHARS  # noqa: E402
from loadtest.users import triton_grpc  # noqa: E402
from loadtest.users.frontend_http import FrontendClient  # noqa: E402
from loadtest.users.metrics import TtsMetrics, percentile  # noqa: E402
from loadtest.users.reporting import Reporter  # noqa: E402
from loadtest.users.slo import Observed, SloGate, describe, evaluate  # noqa: E402
from loadtest.users.textmix import (  # noqa: E402
    DEFAULT_CORPUS_DIR,
    DEFAULT_MIX,
    TextMix,
    load_corpus,
    parse_mix,
)
from loadtest.users.triton_http import TritonHttpClient  # noqa: E402

# Before any gRPC channel exists (see loadtest/users/triton_grpc.py).
triton_grpc.enable_gevent()

TRITON_HTTP_URL = os.environ.get("TTS_TRITON_HTTP_URL", "")
TRITON_GRPC_URL = os.environ.get("TTS_TRITON_GRPC_URL", "")
METRICS = TtsMetrics()  # this process's samples; the master also merges the workers'
METRICS_KEY = "tts_metrics"


@events.init_command_line_parser.add_listener
def add_options(parser: Any) -> None:
    group = parser.add_argument_group("Mandarin TTS")
    group.add_argument("--corpus-dir", default=str(DEFAULT_CORPUS_DIR), env_var="TTS_CORPUS_DIR",
                       help="folder with short.txt, sentences.txt, paragraphs.txt")  # fmt: skip
    group.add_argument("--text-mix", default=DEFAULT_MIX, env_var="TTS_TEXT_MIX",
                       help="kind weights, e.g. short=5,sentence=4,paragraph=1 (Triton users skip paragraphs)")  # fmt: skip
    group.add_argument("--stream-ratio", type=float, default=0.75, env_var="TTS_STREAM_RATIO",
                       help="share of frontend requests that stream (the rest fetch whole files)")  # fmt: skip
    group.add_argument("--speed-jitter", type=float, default=0.05, env_var="TTS_SPEED_JITTER",
                       help="speed drawn from 1 +/- this: distinct inputs defeat Triton's response cache (0: off)")  # fmt: skip
    group.add_argument("--request-timeout", type=float, default=300.0, env_var="TTS_REQUEST_TIMEOUT",
                       help="client timeout per request, seconds")  # fmt: skip
    slo = parser.add_argument_group("SLO gate (decides the exit code)")
    slo.add_argument(
        "--slo-max-error-ratio", type=float, default=0.01, env_var="TTS_SLO_MAX_ERROR_RATIO"
    )
    slo.add_argument("--slo-p95-ms", type=float, default=None, env_var="TTS_SLO_P95_MS",
                     help="p95 of request latency (until the last byte); unset: not gated")  # fmt: skip
    slo.add_argument("--slo-first-audio-p95-ms", type=float, default=None, env_var="TTS_SLO_FIRST_AUDIO_P95_MS",
                     help="p95 of first-audio latency; unset: not gated")  # fmt: skip
    slo.add_argument("--slo-min-requests", type=int, default=1, env_var="TTS_SLO_MIN_REQUESTS")


def option(environment: Any, name: str, default: Any) -> Any:
    return (
        getattr(environment.parsed_options, name, default)
        if environment.parsed_options
        else default
    )


@lru_cache(maxsize=4)
def corpus(corpus_dir: str) -> dict[str, list[str]]:
    return load_corpus(Path(corpus_dir))


class TtsUser(User):
    abstract = True
    wait_time = between(0.1, 0.5)
    max_chars: int | None = None  # longest text this target accepts in one request

    def on_start(self) -> None:
        env = self.environment
        self.texts = TextMix(
            corpus(option(env, "corpus_dir", str(DEFAULT_CORPUS_DIR))),
            parse_mix(option(env, "text_mix", DEFAULT_MIX)),
            max_chars=self.max_chars,
        )
        self.timeout_s = float(option(env, "request_timeout", 300.0))
        self.speed_jitter = float(option(env, "speed_jitter", 0.05))
        self.reporter = Reporter(env.events.request, METRICS)

    def draw_speed(self) -> float | None:
        """Triton caches responses by input: repeating corpus texts would mostly hit it."""
        if self.speed_jitter <= 0:
            return None
        return round(1.0 + self.texts.rng.uniform(-self.speed_jitter, self.speed_jitter), 4)

    def on_stop(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()


class FrontendUser(TtsUser):
    """POST /v1/tts on the frontend (--host): streamed or whole WAV, any text kind."""

    abstract = False
    host = "http://127.0.0.1:8080"

    def on_start(self) -> None:
        super().on_start()
        self.client = FrontendClient(self.host, self.reporter, timeout_s=self.timeout_s)
        self.stream_ratio = float(option(self.environment, "stream_ratio", 0.75))

    @task
    def synthesize(self) -> None:
        stream = self.texts.rng.random() < self.stream_ratio
        self.client.synthesize(self.texts.draw(), stream=stream, speed=self.draw_speed())


class TritonHttpUser(TtsUser):
    """The `tts` ensemble over Triton HTTP (TTS_TRITON_HTTP_URL); one sentence per request."""

    abstract = not TRITON_HTTP_URL
    max_chars = HARD_MAX_CHARS

    def on_start(self) -> None:
        super().on_start()
        self.client = TritonHttpClient(TRITON_HTTP_URL, self.reporter, timeout_s=self.timeout_s)

    @task
    def synthesize(self) -> None:
        self.client.synthesize(self.texts.draw(), speed=self.draw_speed())


class TritonGrpcUser(TtsUser):
    """The `tts` ensemble over Triton gRPC (TTS_TRITON_GRPC_URL); one sentence per request."""

    abstract = not TRITON_GRPC_URL
    max_chars = HARD_MAX_CHARS

    def on_start(self) -> None:
        super().on_start()
        self.client = triton_grpc.TritonGrpcClient(
            TRITON_GRPC_URL, self.reporter, timeout_s=self.timeout_s
        )

    @task
    def synthesize(self) -> None:
        self.client.synthesize(self.texts.draw(), speed=self.draw_speed())


@events.report_to_master.add_listener
def send_metrics(client_id: str, data: dict[str, Any]) -> None:
    data[METRICS_KEY] = METRICS.drain()


@events.worker_report.add_listener
def receive_metrics(client_id: str, data: dict[str, Any]) -> None:
    METRICS.merge(data.get(METRICS_KEY, {}))


@events.init.add_listener
def let_requests_finish(environment: Any, runner: Any, **_: Any) -> None:
    """TTS requests last seconds: at the end of a run, wait for the ones in flight.

    Without --stop-timeout locust kills them (and they vanish from the stats). A distributed
    master's --run-time quits at once and waits only 0.5 s for the workers' last reports, so
    the master takes the run time over: stop (workers finish their requests), then quit.
    """
    if not environment.stop_timeout:
        environment.stop_timeout = float(option(environment, "request_timeout", 300.0))
    options = environment.parsed_options
    if isinstance(runner, MasterRunner) and options is not None and options.run_time:
        run_time, options.run_time = options.run_time, None

        def stop_then_quit() -> None:
            print(f"run time of {run_time} s reached: waiting for requests in flight")
            runner.stop()
            runner.quit()

        @environment.events.test_start.add_listener
        def start_clock(**_: Any) -> None:
            gevent.spawn_later(run_time, stop_then_quit)


@events.test_stop.add_listener
def flush_worker_stats(environment: Any, **_: Any) -> None:
    """locust 2.18: a worker told to stop reports "stopped" without a last stats report, and
    the master then discards its later reports; send the finished requests first."""
    if isinstance(environment.runner, WorkerRunner):
        environment.runner._send_stats()


@events.reset_stats.add_listener
def reset_metrics() -> None:
    METRICS.reset()


def slo_gate(environment: Any) -> SloGate:
    return SloGate(
        max_error_ratio=float(option(environment, "slo_max_error_ratio", 0.01)),
        max_p95_ms=option(environment, "slo_p95_ms", None),
        max_first_audio_p95_ms=option(environment, "slo_first_audio_p95_ms", None),
        min_requests=int(option(environment, "slo_min_requests", 1)),
    )


def write_final_stats(environment: Any, path: Path) -> None:
    """locust 2.18 rewrites <prefix>_stats.csv once a second and not at exit, so it can miss
    the last requests; this copy (same columns) holds exactly the stats the gate judged."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        StatsCSV(environment, PERCENTILES_TO_REPORT).requests_csv(csv.writer(handle))


@events.quitting.add_listener
def report_and_gate(environment: Any, **_: Any) -> None:
    """On the master (or a standalone run): print TTS metrics, write CSV, apply the SLO gate."""
    if isinstance(environment.runner, WorkerRunner):
        return
    print(METRICS.table())
    csv_prefix = option(environment, "csv_prefix", None)
    if csv_prefix:
        METRICS.write_csv(Path(f"{csv_prefix}_tts_metrics.csv"))
        write_final_stats(environment, Path(f"{csv_prefix}_final_stats.csv"))

    total = environment.stats.total
    first_audio = [s.first_audio_s * 1000 for s in METRICS.all_samples()]
    observed = Observed(
        requests=total.num_requests,
        failures=total.num_failures,
        p95_ms=float(total.get_response_time_percentile(0.95) or 0.0),
        first_audio_p95_ms=percentile(first_audio, 0.95),
    )
    gate = slo_gate(environment)
    result = evaluate(gate, observed)
    print(describe(gate, observed, result))
    # Overrides locust's own rule (exit 1 on any failure): the gate's error budget decides.
    environment.process_exit_code = result.exit_code
