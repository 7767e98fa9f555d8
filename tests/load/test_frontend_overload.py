"""Overload on the public API: the real frontend (`python -m frontend`) before a real Triton.

1. Capacity: a closed loop of ADMISSION_LIMIT clients (the frontend's
   `--max-active-requests`) for CAPACITY_RUN_S gives the throughput and the p95 latency
   of accepted requests at capacity.
2. Overload: open-loop Poisson arrivals at OVERLOAD_FACTOR x that throughput for
   OVERLOAD_RUN_S, whatever the answers take.
3. Every answer is a complete, plausible WAV or a fast 429/503 with a JSON error and
   Retry-After; accepted requests keep a bounded p95 (admission control keeps queues out of
   the frontend); the RSS of the frontend and of Triton's process tree stays bounded.
4. Recovery: when the load stops, a normal request gets plausible audio at once and
   /healthz is ready.

All figures are printed (`pytest -s` or the CI log on failure).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from frontend_process_helpers import FrontendProcess
from overload_helpers import (
    Outcome,
    RequestFactory,
    RssSample,
    RssSampler,
    closed_loop,
    open_loop,
    percentile,
    synthesize,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Small on purpose: capacity is then well defined, and cheap to saturate on 2 cores.
ADMISSION_LIMIT = 2
WARM_UP_ROUNDS = 2  # of ADMISSION_LIMIT concurrent requests (ONNX sessions, batch shapes)
CAPACITY_RUN_S = 20.0
OVERLOAD_FACTOR = 5.0
# Longer for a soak run, e.g. TTS_OVERLOAD_RUN_S=600 (the memory bounds stay the same).
OVERLOAD_RUN_S = float(os.environ.get("TTS_OVERLOAD_RUN_S", "30"))
# Client timeout: far above one short sentence, so a hang shows as a failure, not a stall.
REQUEST_TIMEOUT_S = 60.0

# Bounds (generous: these 2-core machines are shared with other CPU-heavy jobs).
MAX_REFUSAL_P95_S = 0.5
# Accepted p95 under overload <= this multiple of the capacity run's p95 (+ slack for
# tiny capacity latencies): requests are not queued inside the frontend.
MAX_ACCEPTED_P95_RATIO = 3.0
ACCEPTED_P95_SLACK_S = 1.0
# At 5x capacity about 80 % should be refused; half shows the load really was several
# times capacity.
MIN_REFUSED_FRACTION = 0.5
# Peak RSS during overload may exceed the peak at capacity by at most this much, and the
# last third of the overload may exceed the first third by at most half of it (no steady
# growth). Triton's response cache alone may add its 32 MiB as distinct requests fill it.
MAX_FRONTEND_RSS_GROWTH_MIB = 128.0
MAX_TRITON_RSS_GROWTH_MIB = 256.0
# Absolute ceilings, about 3-4x the levels measured at capacity (140 / 650 MiB).
MAX_FRONTEND_RSS_MIB = 512.0
MAX_TRITON_RSS_MIB = 2048.0
RECOVERY_DEADLINE_S = 15.0


@dataclass(frozen=True)
class Stack:
    frontend: FrontendProcess
    triton_pid: int


@pytest.fixture(scope="module")
def stack(triton_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    assert triton_server.process is not None and triton_server.process.proc is not None
    proc = FrontendProcess(
        triton_server.grpc_url,
        "--max-active-requests", str(ADMISSION_LIMIT),
        log_dir=tmp_path_factory.mktemp("frontend-overload"),
    )  # fmt: skip
    try:
        yield Stack(proc.start(), triton_server.process.proc.pid)
    finally:
        proc.stop()


def summary(name: str, outcomes: list[Outcome]) -> str:
    if not outcomes:
        return f"{name}: none"
    seconds = [o.seconds for o in outcomes]
    return (
        f"{name}: {len(outcomes)}, p50 {percentile(seconds, 50):.3f} s, "
        f"p95 {percentile(seconds, 95):.3f} s, max {max(seconds):.3f} s"
    )


def refused_count_on_server(url: str) -> float:
    """The frontend's own count of refused /v1/tts requests (all refusal statuses)."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    pattern = r'^tts_frontend_requests_total\{route="tts",status="(429|503)"\} (\S+)$'
    return sum(float(m.group(2)) for m in re.finditer(pattern, text, re.MULTILINE))


def active_on_server(url: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    match = re.search(r"^tts_frontend_active_requests (\S+)$", text, re.MULTILINE)
    assert match, "no tts_frontend_active_requests gauge in /metrics"
    return float(match.group(1))


def check_responses(phase: str, outcomes: list[Outcome]) -> None:
    """200s carry complete plausible WAVs, refusals a JSON error and Retry-After, nothing else."""
    no_answer = [o for o in outcomes if o.status is None]
    other = [o for o in outcomes if o.status is not None and not (o.accepted or o.refused)]
    malformed = [o for o in outcomes if o.problem and o.status is not None]
    assert not no_answer, f"{phase}: {len(no_answer)} without an answer: {no_answer[:3]}"
    assert not other, f"{phase}: unexpected statuses (5xx other than 503?): {other[:3]}"
    assert not malformed, f"{phase}: {len(malformed)} malformed answers: {malformed[:3]}"


@dataclass
class Run:
    """What the phases measured; times are monotonic seconds."""

    warm: list[Outcome] = field(default_factory=list)
    capacity: list[Outcome] = field(default_factory=list)
    capacity_window: tuple[float, float] = (0.0, 0.0)
    offered_per_s: float = 0.0
    overload: list[Outcome] = field(default_factory=list)
    overload_window: tuple[float, float] = (0.0, 0.0)
    server_refused: float = 0.0  # the frontend's own count during the overload
    recovery: list[Outcome] = field(default_factory=list)
    recovered_after_s: float = 0.0  # from the end of the overload

    @property
    def capacity_per_s(self) -> float:
        start, end = self.capacity_window
        return sum(o.accepted for o in self.capacity) / (end - start)


async def run_phases(url: str, requests: RequestFactory) -> Run:
    run = Run()
    connector = aiohttp.TCPConnector(limit=0)  # the client must never queue requests itself
    async with aiohttp.ClientSession(connector=connector) as session:

        def one() -> Coroutine[Any, Any, Outcome]:
            return synthesize(session, url, *requests.next(), REQUEST_TIMEOUT_S)

        for _ in range(WARM_UP_ROUNDS):
            run.warm += await asyncio.gather(*(one() for _ in range(ADMISSION_LIMIT)))

        start = time.monotonic()
        run.capacity = await closed_loop(
            session, url, requests, ADMISSION_LIMIT, CAPACITY_RUN_S, REQUEST_TIMEOUT_S
        )
        run.capacity_window = (start, time.monotonic())
        run.offered_per_s = OVERLOAD_FACTOR * run.capacity_per_s

        refused_before = refused_count_on_server(url)
        start = time.monotonic()
        run.overload = await open_loop(
            session, url, requests, run.offered_per_s, OVERLOAD_RUN_S, REQUEST_TIMEOUT_S
        )
        run.overload_window = (start, time.monotonic())
        run.server_refused = refused_count_on_server(url) - refused_before

        # The first normal request after the load must be served (a refusal here would mean
        # leaked admission slots); a few tries cover a slow machine.
        while time.monotonic() - run.overload_window[1] < RECOVERY_DEADLINE_S:
            run.recovery.append(await one())
            if run.recovery[-1].accepted:
                break
            await asyncio.sleep(0.5)
        run.recovered_after_s = time.monotonic() - run.overload_window[1]
    return run


def p95(outcomes: list[Outcome]) -> float:
    return percentile([o.seconds for o in outcomes], 95) if len(outcomes) > 1 else float("nan")


def peak(samples: list[RssSample], attr: str) -> float:
    return max((getattr(s, attr) for s in samples), default=float("nan"))


@dataclass(frozen=True)
class RssWindows:
    capacity: list[RssSample]
    overload: list[RssSample]
    early: list[RssSample]  # first third of the overload
    late: list[RssSample]  # last third
    after: list[RssSample]

    @classmethod
    def of(cls, sampler: RssSampler, run: Run) -> RssWindows:
        start, end = run.overload_window
        overload = list(sampler.between(start, end))
        third = (end - start) / 3
        return cls(
            capacity=list(sampler.between(*run.capacity_window)),
            overload=overload,
            early=[s for s in overload if s.at <= start + third],
            late=[s for s in overload if s.at >= end - third],
            after=[s for s in sampler.samples if s.at > end],
        )

    def describe(self, attr: str) -> str:
        return (
            f"peak at capacity {peak(self.capacity, attr):.0f}, in overload "
            f"{peak(self.overload, attr):.0f} (first third {peak(self.early, attr):.0f}, last "
            f"third {peak(self.late, attr):.0f}), after {peak(self.after, attr):.0f}"
        )


def report(run: Run, rss: RssWindows) -> str:
    accepted = [o for o in run.overload if o.accepted]
    refused = [o for o in run.overload if o.refused]
    statuses = sorted({str(o.status) for o in run.overload})
    return "\n".join(
        [
            f"admission limit {ADMISSION_LIMIT} (--max-active-requests)",
            f"capacity: closed loop x{ADMISSION_LIMIT} for {CAPACITY_RUN_S:.0f} s: "
            f"{run.capacity_per_s:.2f} req/s, {sum(o.refused for o in run.capacity)} refused",
            summary("  capacity accepted", [o for o in run.capacity if o.accepted]),
            f"overload: open loop {run.offered_per_s:.2f} req/s ({OVERLOAD_FACTOR}x) for "
            f"{OVERLOAD_RUN_S:.0f} s: {len(run.overload)} sent, {len(accepted)} accepted "
            f"({len(accepted) / OVERLOAD_RUN_S:.2f} req/s), {len(refused)} refused "
            f"({len(refused) / max(1, len(run.overload)):.0%}; frontend counted "
            f"{run.server_refused:.0f}), statuses {statuses}",
            summary("  overload accepted", accepted),
            summary("  overload refused", refused),
            f"  accepted p95 / capacity p95 = "
            f"{p95(accepted) / p95([o for o in run.capacity if o.accepted]):.2f}",
            f"RSS frontend MiB: {rss.describe('frontend_mib')}",
            f"RSS triton tree MiB: {rss.describe('triton_mib')}",
            f"recovery: {len(run.recovery)} request(s); status {run.recovery[-1].status} in "
            f"{run.recovery[-1].seconds:.2f} s, {run.recovered_after_s:.2f} s after the load",
        ]
    )


def test_overload_is_refused_fast_with_bounded_latency_memory_and_recovery(
    stack: Stack,
) -> None:
    url = stack.frontend.url
    assert stack.frontend.proc is not None
    with RssSampler(stack.frontend.proc.pid, stack.triton_pid) as sampler:
        run = asyncio.run(run_phases(url, RequestFactory()))
        time.sleep(sampler.interval_s * 2)  # a sample after the load, for the print-out
    rss = RssWindows.of(sampler, run)
    print("\n" + report(run, rss))

    # 1. Capacity was measured on real, complete audio.
    check_responses("warm-up", run.warm)
    check_responses("capacity", run.capacity)
    capacity_ok = [o for o in run.capacity if o.accepted]
    assert len(capacity_ok) >= 4, f"the capacity run served only {len(capacity_ok)} requests"

    # 3. Under overload: complete audio or well-formed, fast refusals; bounded latency.
    check_responses("overload", run.overload)
    accepted = [o for o in run.overload if o.accepted]
    refused = [o for o in run.overload if o.refused]
    assert len(accepted) >= 2, f"only {len(accepted)} requests served under overload"
    refused_fraction = len(refused) / len(run.overload)
    assert refused_fraction >= MIN_REFUSED_FRACTION, (
        f"only {refused_fraction:.0%} refused: the load was not several times capacity"
    )
    assert run.server_refused == len(refused), "client and frontend disagree on refusals"
    assert p95(refused) <= MAX_REFUSAL_P95_S, f"refusals are slow: p95 {p95(refused):.3f} s"
    bound = MAX_ACCEPTED_P95_RATIO * p95(capacity_ok) + ACCEPTED_P95_SLACK_S
    assert p95(accepted) <= bound, (
        f"accepted p95 {p95(accepted):.2f} s > {bound:.2f} s: requests queue in the frontend"
    )
    assert rss.capacity and rss.early and rss.late, "the RSS sampler took too few samples"
    for attr, growth, ceiling in (
        ("frontend_mib", MAX_FRONTEND_RSS_GROWTH_MIB, MAX_FRONTEND_RSS_MIB),
        ("triton_mib", MAX_TRITON_RSS_GROWTH_MIB, MAX_TRITON_RSS_MIB),
    ):
        assert peak(rss.overload, attr) <= peak(rss.capacity, attr) + growth, f"{attr} grew"
        assert peak(rss.late, attr) <= peak(rss.early, attr) + growth / 2, f"{attr} keeps growing"
        assert peak(rss.overload, attr) <= ceiling, f"{attr} above {ceiling} MiB"

    # 4. Recovery: audio again at once, no admission slot leaked, ready.
    assert run.recovery[-1].accepted, f"not serving again: {run.recovery[-3:]}"
    check_responses("recovery", run.recovery[-1:])
    assert active_on_server(url) == 0, "admission slots leaked: requests still counted active"
    assert stack.frontend.get_status("/healthz") == 200
