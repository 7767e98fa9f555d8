"""Fault survival against real processes: the launcher (tritonserver + frontend) while
requests are in flight, first a Python stub and then tritonserver itself is killed with
SIGKILL. Every request must end with complete, plausible audio or a clear JSON error (no
hang, no truncated WAV), and the service must serve again within RECOVERY_DEADLINE_S."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psutil
import pytest
import soundfile as sf
from frontend_process_helpers import MAX_SECONDS_PER_CHAR, MIN_SECONDS_PER_CHAR, SHORT_TEXTS
from launcher_helpers import LauncherProcess, running_launcher

from mandarin_tts import contract as c
from mandarin_tts.serving.probe import count_syllables

pytestmark = pytest.mark.integration

RECOVERY_DEADLINE_S = 30.0
# Client timeout per request: far above a short sentence on 2 loaded cores, so a hang
# shows up as a timeout rather than blocking the test run.
REQUEST_TIMEOUT_S = 90.0
IN_FLIGHT_TEXTS = list(SHORT_TEXTS)


@dataclass(frozen=True)
class Outcome:
    text: str
    status: int | None  # None: no HTTP answer at all (connection error or client timeout)
    seconds: float | None = None  # audio duration of a 200
    error: str = ""
    retry_after: str | None = None  # the Retry-After header of an error


@pytest.fixture(scope="module")
def launcher(request) -> Iterator[LauncherProcess]:
    with running_launcher(request, lambda: LauncherProcess(["--probe-interval", "2"])) as running:
        yield running


def synthesize(url: str, text: str, speed: float) -> Outcome:
    body = json.dumps({"text": text, "speed": speed}).encode()
    req = urllib.request.Request(
        url + "/v1/tts", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT_S) as response:
            audio, rate = sf.read(io.BytesIO(response.read()), dtype="float32")
            declared = float(response.headers["X-Audio-Duration"])
            seconds = len(audio) / rate
            assert rate == c.OUTPUT_SAMPLE_RATE and audio.ndim == 1, (rate, audio.shape)
            assert abs(seconds - declared) < 0.01, f"WAV holds {seconds} s, header {declared}"
            return Outcome(text, response.status, seconds=seconds)
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = ""
        return Outcome(text, error.code, error=message, retry_after=error.headers["Retry-After"])
    except (urllib.error.URLError, OSError) as error:
        return Outcome(text, None, error=repr(error))


def assert_plausible(outcome: Outcome) -> None:
    chars = count_syllables(outcome.text)
    assert outcome.seconds is not None
    low, high = chars * MIN_SECONDS_PER_CHAR, chars * MAX_SECONDS_PER_CHAR
    assert low <= outcome.seconds <= high, (
        f"{outcome.text}: {outcome.seconds:.2f} s, expected {low:.2f}-{high:.2f} s"
    )


def requests_across_a_kill(
    launcher: LauncherProcess, kill: psutil.Process, run: int
) -> tuple[list[Outcome], float]:
    """Send all IN_FLIGHT_TEXTS at once, SIGKILL `kill` while they are being served;
    returns their outcomes and the monotonic time of the kill."""
    speeds = [round(0.95 + 0.01 * i + 0.001 * run, 3) for i in range(len(IN_FLIGHT_TEXTS))]
    with ThreadPoolExecutor(len(IN_FLIGHT_TEXTS)) as pool:
        futures = [
            pool.submit(synthesize, launcher.url, text, speed)
            for text, speed in zip(IN_FLIGHT_TEXTS, speeds, strict=True)
        ]
        time.sleep(0.5)  # let them reach Triton
        pending = sum(not f.done() for f in futures)
        kill.kill()
        killed_at = time.monotonic()
        outcomes = [f.result() for f in futures]
    print(f"\nkilled pid {kill.pid} with {pending}/{len(futures)} requests pending")
    return outcomes, killed_at


def check_outcomes(outcomes: list[Outcome]) -> None:
    ok = [o for o in outcomes if o.status == 200]
    errors = [o for o in outcomes if o.status is not None and o.status >= 400]
    print(f"in flight: {len(ok)} complete audio, {len(errors)} clear errors")
    for outcome in errors:
        print(f"  {outcome.status}: {outcome.error}")
    assert all(o.status is not None for o in outcomes), [o for o in outcomes if o.status is None]
    assert len(ok) + len(errors) == len(outcomes), outcomes
    assert all(o.error for o in errors), "an error response without a JSON message"
    unavailable = [o for o in errors if o.status == 503]
    assert all(o.retry_after and int(o.retry_after) >= 1 for o in unavailable), unavailable
    for outcome in ok:
        assert_plausible(outcome)


def wait_recovered(launcher: LauncherProcess, killed_at: float) -> float:
    """Seconds from the kill until a fresh (uncached) request succeeds with plausible audio."""
    attempt = 0
    while time.monotonic() - killed_at < RECOVERY_DEADLINE_S:
        attempt += 1
        text = IN_FLIGHT_TEXTS[attempt % len(IN_FLIGHT_TEXTS)]
        outcome = synthesize(launcher.url, text, speed=round(1.1 + 0.001 * attempt, 3))
        if outcome.status == 200:
            assert_plausible(outcome)
            return time.monotonic() - killed_at
        time.sleep(1.0)
    raise AssertionError(
        f"not serving again within {RECOVERY_DEADLINE_S} s of the kill; launcher said:\n"
        f"{launcher.supervisor_lines()}"
    )


def test_survives_a_killed_vocoder_stub(launcher):
    launcher.wait_healthy(timeout_s=120)
    stubs = launcher.find("vocoder")
    stubs = [p for p in stubs if "triton_python_backend_stub" in " ".join(p.cmdline())]
    # One per vocoder instance; killing one leaves the others serving, which is the case a
    # probe alone can miss (it may keep landing on a live instance).
    assert stubs, "no vocoder stub found"
    outcomes, killed_at = requests_across_a_kill(launcher, stubs[0], run=1)
    recovered = wait_recovered(launcher, killed_at)
    print(f"serving again {recovered:.1f} s after the stub was killed")
    check_outcomes(outcomes)
    assert launcher.proc.poll() is None
    # The dead instance must be replaced, not left failing the requests routed to it.
    deadline = time.monotonic() + RECOVERY_DEADLINE_S
    while "tritonserver restarted, probe ok" not in launcher.text():
        assert time.monotonic() < deadline, launcher.supervisor_lines()
        time.sleep(0.5)
    print(launcher.supervisor_lines())


def test_survives_a_killed_tritonserver(launcher):
    launcher.wait_healthy(timeout_s=120)
    outcomes, killed_at = requests_across_a_kill(launcher, launcher.tritonserver(), run=2)
    recovered = wait_recovered(launcher, killed_at)
    print(f"serving again {recovered:.1f} s after tritonserver was killed")
    check_outcomes(outcomes)
    assert launcher.proc.poll() is None
    assert "tritonserver restarted, probe ok" in launcher.text()
