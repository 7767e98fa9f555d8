"""An asyncio load generator for the frontend's public `POST /v1/tts`, plus an RSS sampler.

Every request gets its own `speed`, so Triton's response cache cannot answer it. Each
response is checked as it arrives and any defect is recorded as `Outcome.problem` (the test
asserts on the collected outcomes, so one bad response does not hide the others).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import random
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import aiohttp
import psutil
import soundfile as sf
from frontend_process_helpers import MAX_SECONDS_PER_CHAR, MIN_SECONDS_PER_CHAR, SHORT_TEXTS

from mandarin_tts import contract as c
from mandarin_tts.serving.probe import count_syllables

# A complete WAV of one short sentence lasts this long per Han character at speed 1
# (the same plausibility band as tests/integration/test_fault_survival.py).
REFUSAL_STATUSES = (429, 503)
# Speeds 0.9000, 0.9001, ...: unique per request, close to 1 so the audio stays plausible.
SPEED_BASE = 0.9
SPEED_STEP = 1e-4
SPEED_SLOTS = 2000


@dataclass(frozen=True)
class Outcome:
    sent_at: float  # monotonic
    seconds: float  # until the whole body was read (or the failure)
    status: int | None  # None: no HTTP answer (connection error or client timeout)
    text: str
    audio_seconds: float | None = None
    problem: str = ""  # empty when the response is a well-formed 200 or refusal

    @property
    def accepted(self) -> bool:
        return self.status == 200

    @property
    def refused(self) -> bool:
        return self.status in REFUSAL_STATUSES


class RequestFactory:
    """Cycles through the texts; hands out a never-repeated speed with each."""

    def __init__(self, texts: Sequence[str] = SHORT_TEXTS) -> None:
        self._texts = itertools.cycle(texts)
        self._index = itertools.count()

    def next(self) -> tuple[str, float]:
        index = next(self._index)
        if index >= SPEED_SLOTS:
            raise RuntimeError(f"more than {SPEED_SLOTS} requests: speeds would repeat")
        return next(self._texts), round(SPEED_BASE + index * SPEED_STEP, 4)


def _check_audio(body: bytes, declared: str | None, text: str, speed: float) -> tuple[float, str]:
    try:
        audio, rate = sf.read(io.BytesIO(body), dtype="float32")
    except Exception as error:  # noqa: BLE001 - any decode failure is the finding
        return 0.0, f"200 body is not a readable WAV: {error!r}"
    seconds = len(audio) / rate if rate else 0.0
    if rate != c.OUTPUT_SAMPLE_RATE or audio.ndim != 1:
        return seconds, f"WAV rate {rate} / shape {audio.shape}"
    if declared is None or abs(float(declared) - seconds) > 0.01:
        return seconds, f"WAV holds {seconds:.3f} s, X-Audio-Duration says {declared}"
    chars = count_syllables(text)
    low, high = chars * MIN_SECONDS_PER_CHAR / speed, chars * MAX_SECONDS_PER_CHAR / speed
    if not low <= seconds <= high:
        return seconds, f"{seconds:.2f} s of audio for {chars} characters ({low:.2f}-{high:.2f})"
    return seconds, ""


def _check_refusal(status: int, body: bytes, retry_after: str | None) -> str:
    try:
        error = json.loads(body)["error"]
        code, message = error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        return f"{status} without a JSON error body: {body[:200]!r}"
    if not (code and message):
        return f"{status} with an empty error code or message: {error}"
    if retry_after is None or not retry_after.isdigit() or int(retry_after) < 1:
        return f"{status} {code} without a usable Retry-After ({retry_after!r})"
    return ""


async def synthesize(
    session: aiohttp.ClientSession, url: str, text: str, speed: float, timeout_s: float
) -> Outcome:
    """One whole-file WAV request, timed until the body has been read."""
    sent_at = time.monotonic()
    try:
        async with session.post(
            url + "/v1/tts",
            json={"text": text, "speed": speed},
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            body = await response.read()
            seconds = time.monotonic() - sent_at
            status = response.status
            if status == 200:
                audio_s, problem = _check_audio(
                    body, response.headers.get("X-Audio-Duration"), text, speed
                )
                return Outcome(sent_at, seconds, status, text, audio_s, problem)
            if status in REFUSAL_STATUSES:
                problem = _check_refusal(status, body, response.headers.get("Retry-After"))
                return Outcome(sent_at, seconds, status, text, problem=problem)
            return Outcome(sent_at, seconds, status, text, problem=f"{status}: {body[:300]!r}")
    except (aiohttp.ClientError, TimeoutError) as error:
        return Outcome(sent_at, time.monotonic() - sent_at, None, text, problem=repr(error))


async def closed_loop(
    session: aiohttp.ClientSession,
    url: str,
    requests: RequestFactory,
    workers: int,
    duration_s: float,
    timeout_s: float,
) -> list[Outcome]:
    """`workers` clients, each sending its next request when the last one is answered."""
    deadline = time.monotonic() + duration_s
    outcomes: list[Outcome] = []

    async def worker() -> None:
        while time.monotonic() < deadline:
            outcomes.append(await synthesize(session, url, *requests.next(), timeout_s))

    await asyncio.gather(*(worker() for _ in range(workers)))
    return outcomes


async def open_loop(
    session: aiohttp.ClientSession,
    url: str,
    requests: RequestFactory,
    rate_per_s: float,
    duration_s: float,
    timeout_s: float,
    seed: int = 7,
) -> list[Outcome]:
    """Poisson arrivals at `rate_per_s` for `duration_s`, whatever the answers take."""
    rng = random.Random(seed)
    start = time.monotonic()
    due = start
    tasks: list[asyncio.Task[Outcome]] = []
    while True:
        due += rng.expovariate(rate_per_s)
        if due - start >= duration_s:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        text, speed = requests.next()
        tasks.append(asyncio.create_task(synthesize(session, url, text, speed, timeout_s)))
    return list(await asyncio.gather(*tasks))


def percentile(values: Sequence[float], q: float) -> float:
    """Percentile (q in 1..99) of a sample, interpolated (statistics' inclusive method)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


@dataclass
class RssSample:
    at: float  # monotonic
    frontend_mib: float
    triton_mib: float


def tree_rss_mib(root: psutil.Process) -> float:
    """RSS of a process and all its descendants (shared pages counted once per process)."""
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue  # a stub that exited between listing and reading
    return total / 2**20


@dataclass
class RssSampler:
    """Samples the frontend's and Triton's tree RSS every `interval_s` in a thread."""

    frontend_pid: int
    triton_pid: int
    interval_s: float = 0.5
    samples: list[RssSample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def __enter__(self) -> RssSampler:
        frontend, triton = psutil.Process(self.frontend_pid), psutil.Process(self.triton_pid)

        def run() -> None:
            while not self._stop.is_set():
                try:
                    sample = RssSample(
                        time.monotonic(), tree_rss_mib(frontend), tree_rss_mib(triton)
                    )
                except psutil.Error:
                    sample = None  # a process ended: the test's own checks will say so
                if sample is not None:
                    self.samples.append(sample)
                self._stop.wait(self.interval_s)

        self._thread = threading.Thread(target=run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def between(self, start: float, end: float) -> Iterator[RssSample]:
        return (s for s in self.samples if start <= s.at <= end)
