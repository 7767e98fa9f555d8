"""Hangs against real processes: the launcher (tritonserver + frontend) under a steady load
while tritonserver or one Python stub is stopped with SIGSTOP, the way a deadlock, a stuck
page-in or a paused container looks. A stop shorter than the detection time costs nothing
(no restart, every request served); a longer one gets the hung process replaced and the
service serving again within RECOVERY_DEADLINE_S, and every request is answered: audio, or
503/504 with Retry-After, well within its client's patience."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psutil
import pytest
import soundfile as sf
from frontend_process_helpers import SHORT_TEXTS
from launcher_helpers import LauncherProcess, running_launcher

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HANG_AFTER_S = 15.0
RECOVERY_DEADLINE_S = 60.0
# The slowest answer a request may get during a hang: its chunk deadline (10-13 s for a
# short sentence) and a retry, far below the frontend's old 300 s Triton timeout.
ANSWER_WITHIN_S = 45.0
CLIENT_TIMEOUT_S = 90.0  # a request still unanswered by then has hung
LOAD_THREADS = 3


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no answer at all
    seconds: float
    retry_after: str | None = None
    detail: str = ""


@pytest.fixture(scope="module")
def launcher(request) -> Iterator[LauncherProcess]:
    args = ["--probe-interval", "2", "--hang-after", str(HANG_AFTER_S)]
    with running_launcher(request, lambda: LauncherProcess(args)) as running:
        yield running


def synthesize(url: str, text: str, speed: float) -> Outcome:
    body = json.dumps({"text": text, "speed": speed}).encode()
    req = urllib.request.Request(
        url + "/v1/tts", data=body, headers={"Content-Type": "application/json"}
    )
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=CLIENT_TIMEOUT_S) as response:
            audio, _ = sf.read(io.BytesIO(response.read()), dtype="float32")
            assert audio.size > 0
            return Outcome(response.status, time.monotonic() - start)
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:200]
        return Outcome(error.code, time.monotonic() - start, error.headers["Retry-After"], detail)
    except (urllib.error.URLError, OSError) as error:
        return Outcome(None, time.monotonic() - start, detail=repr(error))


class Load:
    """LOAD_THREADS clients sending short sentences back to back (each its own speed, so
    the response cache answers none) until stopped."""

    def __init__(self, url: str, run: int) -> None:
        self.url, self.run = url, run
        self.outcomes: list[Outcome] = []
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(LOAD_THREADS)
        self.futures = [self.pool.submit(self.client, i) for i in range(LOAD_THREADS)]

    def client(self, index: int) -> None:
        sent = 0
        while not self.stop.is_set():
            sent += 1
            text = SHORT_TEXTS[(index + sent) % len(SHORT_TEXTS)]
            speed = round(0.9 + 1e-4 * (self.run * 1000 + index * 200 + sent), 5)
            self.outcomes.append(synthesize(self.url, text, speed))

    def finish(self) -> list[Outcome]:
        self.stop.set()
        for future in self.futures:
            future.result(timeout=CLIENT_TIMEOUT_S + 10)
        self.pool.shutdown()
        return self.outcomes


def check_answered(outcomes: list[Outcome]) -> None:
    summary: dict[int | None, int] = {}
    for outcome in outcomes:
        summary[outcome.status] = summary.get(outcome.status, 0) + 1
    slowest = max(o.seconds for o in outcomes)
    print(f"{len(outcomes)} requests: {summary}; slowest answer {slowest:.1f} s")
    for outcome in outcomes:
        assert outcome.status in (200, 503, 504), outcome
        if outcome.status != 200:
            assert outcome.retry_after and int(outcome.retry_after) >= 1, outcome
        assert outcome.seconds < ANSWER_WITHIN_S, outcome


def wait_serving(launcher: LauncherProcess, since: float, run: int) -> float:
    """Seconds from `since` until a fresh request gets audio."""
    attempt = 0
    while time.monotonic() - since < RECOVERY_DEADLINE_S:
        attempt += 1
        text = SHORT_TEXTS[attempt % len(SHORT_TEXTS)]
        if (
            synthesize(launcher.url, text, round(1.1 + 1e-3 * run + 1e-5 * attempt, 6)).status
            == 200
        ):
            return time.monotonic() - since
        time.sleep(0.5)
    raise AssertionError(
        f"not serving within {RECOVERY_DEADLINE_S} s; launcher said:\n{launcher.supervisor_lines()}"
    )


def stub_of(server: psutil.Process, model: str) -> psutil.Process:
    """The Python-backend stub of `model`'s first instance (a child of tritonserver)."""
    for child in server.children():
        cmdline = " ".join(child.cmdline())
        if "triton_python_backend_stub" in cmdline and f"{model}_0_0" in cmdline:
            return child
    raise AssertionError(f"no stub of {model} among {server.children()}")


def stopped_for(launcher: LauncherProcess, victim: psutil.Process, seconds: float | None, run: int):
    """SIGSTOP `victim` under load (for `seconds`, then SIGCONT; None: leave it stopped);
    returns the load's outcomes and the seconds from the stop until serving again."""
    launcher.wait_healthy(timeout_s=120)
    load = Load(launcher.url, run)
    time.sleep(2.0)  # requests in flight
    victim.suspend()
    stopped_at = time.monotonic()
    if seconds is not None:
        time.sleep(seconds)
        victim.resume()
    recovered = wait_serving(launcher, stopped_at, run)
    time.sleep(3.0)  # a few requests after recovery too
    return load.finish(), recovered


def test_a_stop_shorter_than_the_detection_time_costs_nothing(launcher):
    restarts_before = launcher.text().count("restarting tritonserver")
    outcomes, recovered = stopped_for(launcher, launcher.tritonserver(), 5.0, run=1)
    print(f"\nserving {recovered:.1f} s after a 5 s stop")
    check_answered(outcomes)
    assert all(o.status == 200 for o in outcomes), "a request was lost to a short stop"
    assert launcher.text().count("restarting tritonserver") == restarts_before
    assert "hung" not in launcher.supervisor_lines()


def test_a_stopped_tritonserver_is_replaced(launcher):
    server = launcher.tritonserver()
    outcomes, recovered = stopped_for(launcher, server, None, run=2)
    print(f"\nserving again {recovered:.1f} s after tritonserver was stopped")
    check_answered(outcomes)
    assert "tritonserver hung: tritonserver (process state T)" in launcher.text()
    assert "tritonserver restarted, probe ok" in launcher.text()
    assert not psutil.pid_exists(server.pid) or server.status() == psutil.STATUS_ZOMBIE
    assert recovered < RECOVERY_DEADLINE_S


def test_a_stopped_python_stub_is_replaced(launcher):
    server = launcher.tritonserver()
    stub = stub_of(server, "acoustic")  # the acoustic step has one instance: all traffic
    restarts_before = launcher.text().count("tritonserver restarted, probe ok")
    outcomes, recovered = stopped_for(launcher, stub, None, run=3)
    print(f"\nserving again {recovered:.1f} s after the acoustic stub was stopped")
    check_answered(outcomes)
    # Two detectors may see it first: our liveness rule (the stub's state T for
    # HANG_AFTER_S), or Triton 2.51's own stub health check, which answers the requests
    # waiting on a silent stub with "Stub process ... is not healthy" (a dead-stub probe).
    ours = f"a Python stub hung: stub {stub.pid} (process state T)" in launcher.text()
    triton = "end-to-end probe dead_stub" in launcher.text()
    print(f"detected by: {'the liveness rule' if ours else 'Triton (dead-stub probe)'}")
    assert ours or triton, launcher.supervisor_lines()
    assert launcher.text().count("tritonserver restarted, probe ok") == restarts_before + 1
    assert launcher.tritonserver().pid != server.pid
