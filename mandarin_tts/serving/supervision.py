"""The launcher's restart rules, as a small clock-driven state machine with no I/O.

Triton 2.51 neither restarts a crashed Python stub nor reports one in /v2/health/ready, so
the launcher probes end to end and decides here what each outcome means:

- tritonserver exited, one of its Python stubs is gone (fewer stub processes than model
  instances: with several instances of a model a probe may keep landing on a live one), or
  a probe says a stub "is not healthy": restart at once, without draining (requests routed
  to the dead instance cannot succeed);
- a probe fails hard (connection refused, implausible audio, an internal error): restart
  after `failures_to_restart` such probes in a row, draining first;
- a probe times out or finds a queue full: the server is busy, not broken. Restarting a
  busy server would throw away all the work it has accepted, so these never count;
- tritonserver or one of its stubs hangs: it does not answer its liveness checks (the server:
  HTTP /v2/health/live within a short timeout and a running process state; each stub: a
  running process state, i.e. not stopped by SIGSTOP/a debugger and not stuck in
  uninterruptible sleep) for `hang_after_s` in a row: restart at once, without draining (a
  hung process drains nothing). A server that answers /v2/health/live is never hung however
  slow its end-to-end probe is: like Kubernetes, liveness is "answers at all", not "fast";
- more than `max_restarts` restarts within `window_s`: something is persistently wrong
  (bad model files, no memory), so give up and let the orchestrator decide. A sliding
  window, not a lifetime cap, so a service that runs for months survives rare crashes.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Triton 2.51's answer once a Python stub died.
DEAD_STUB_MESSAGE = "is not healthy"
# Answers of a server that is alive but saturated (client or queue timeouts, full queues).
BUSY_MARKERS = (
    "timed out",
    "timeout",
    "deadline exceeded",
    "exceeds maximum queue size",
    "exceeded maximum queue size",
)


# The Python backend's stub processes; /proc truncates names to 15 characters.
STUB_PROCESS_NAME = "triton_python_backend_stub"[:15]


def python_backend_instances(configs: dict) -> int:
    """How many stub processes a healthy server runs: one per Python-backend instance."""
    return sum(
        sum(group.count for group in config.instance_group)
        for config in configs.values()
        if config.backend == "python"
    )


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/PID/stat the rules use."""

    pid: int
    name: str  # comm, truncated by the kernel to 15 characters
    state: str  # R running, S sleeping, D uninterruptible, T stopped, t traced, Z zombie...
    ppid: int


def parse_stat(text: str) -> ProcStat:
    """ "pid (comm) state ppid ...": comm may hold spaces and ')', so split after the last ')'."""
    name = text[text.find("(") + 1 : text.rfind(")")]
    fields = text[text.rfind(")") + 2 :].split()
    return ProcStat(int(text[: text.find("(")]), name, fields[0], int(fields[1]))


def read_stat(pid: int, proc_root: Path = Path("/proc")) -> ProcStat | None:
    """None when the process is gone."""
    try:
        return parse_stat((proc_root / str(pid) / "stat").read_text())
    except (OSError, ValueError, IndexError):
        return None


def stub_stats(server_pid: int, proc_root: Path = Path("/proc")) -> list[ProcStat]:
    """Live (not zombie) stub processes whose parent is `server_pid`."""
    found = []
    for stat in proc_root.glob("[0-9]*/stat"):
        try:
            proc = parse_stat(stat.read_text())
        except (OSError, ValueError, IndexError):  # the process ended while we looked
            continue
        if proc.name == STUB_PROCESS_NAME and proc.state != "Z" and proc.ppid == server_pid:
            found.append(proc)
    return found


def count_stubs(server_pid: int, proc_root: Path = Path("/proc")) -> int:
    return len(stub_stats(server_pid, proc_root))


# Process states in which a process answers nothing: stopped (SIGSTOP, a frozen cgroup or
# container pause shows as T or D), traced, or in uninterruptible sleep (a stuck page-in or
# disk). A healthy process passes through D briefly; only `hang_after_s` of it counts.
UNRESPONSIVE_STATES = frozenset("TtD")


@dataclass(frozen=True)
class LivenessCheck:
    """One round of liveness observations of a server and its stubs."""

    server_answers: bool  # /v2/health/live answered 200 within its timeout
    server_state: str | None  # None: could not be read (the exit check handles a gone server)
    stub_states: Mapping[int, str]  # pid -> state


def unresponsive(check: LivenessCheck) -> dict[str, str]:
    """Subject ("tritonserver", "stub PID") -> why it failed this round's liveness check."""
    failing = {}
    if check.server_state in UNRESPONSIVE_STATES:
        failing["tritonserver"] = f"process state {check.server_state}"
    elif not check.server_answers:
        failing["tritonserver"] = "no answer on /v2/health/live"
    for pid, state in check.stub_states.items():
        if state in UNRESPONSIVE_STATES:
            failing[f"stub {pid}"] = f"process state {state}"
    return failing


class HangDetector:
    """A subject hangs once it failed every liveness check for `hang_after_s`; one passed
    check clears it. Subjects are named by `unresponsive()`."""

    def __init__(self, hang_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.hang_after_s = hang_after_s
        self.clock = clock
        self.failing_since: dict[str, float] = {}

    def observe(self, failing: Iterable[str]) -> list[str]:
        """Record this round's failing subjects; returns those hung by now."""
        now = self.clock()
        current = set(failing)
        self.failing_since = {subject: self.failing_since.get(subject, now) for subject in current}
        return sorted(
            subject
            for subject, since in self.failing_since.items()
            if now - since >= self.hang_after_s
        )

    def reset(self) -> None:
        self.failing_since.clear()


class ProbeOutcome(enum.Enum):
    OK = "ok"
    BUSY = "busy"  # alive but saturated: never a reason to restart
    FAILED = "failed"  # counts towards a drained restart
    DEAD_STUB = "dead_stub"  # restart at once


def classify_probe_error(message: str) -> ProbeOutcome:
    text = message.lower()
    if DEAD_STUB_MESSAGE in text:
        return ProbeOutcome.DEAD_STUB
    if any(marker in text for marker in BUSY_MARKERS):
        return ProbeOutcome.BUSY
    return ProbeOutcome.FAILED


class Action(enum.Enum):
    NONE = "none"
    RESTART_DRAINED = "restart_drained"  # SIGINT first: in-flight requests finish
    RESTART_NOW = "restart_now"  # the server is dead or cannot serve anything
    GIVE_UP = "give_up"


@dataclass(frozen=True)
class RestartRules:
    failures_to_restart: int = 2
    max_restarts: int = 5
    window_s: float = 600.0
    # Liveness: how long a server or stub may fail every check before it is replaced, and
    # the timeout of one /v2/health/live call. Short enough that requests caught by a hang
    # are answered within their deadlines; long enough that a page-in storm, a GC pause or
    # a brief SIGSTOP (a debugger, a checkpoint) does not throw away a working server.
    hang_after_s: float = 15.0
    liveness_timeout_s: float = 2.0

    def __post_init__(self) -> None:
        if (
            self.failures_to_restart < 1
            or self.max_restarts < 1
            or self.window_s <= 0
            or self.liveness_timeout_s <= 0
            or self.hang_after_s < self.liveness_timeout_s
        ):
            raise ValueError(f"invalid restart rules: {self}")


class Supervisor:
    """Feed it what happened; it answers what to do. The caller performs the restart and
    reports it with `restarted()`."""

    def __init__(
        self, rules: RestartRules | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rules = rules or RestartRules()
        self.clock = clock
        self.consecutive_failures = 0
        self.restart_times: deque[float] = deque()
        self.hangs = HangDetector(self.rules.hang_after_s, clock)

    def restarts_in_window(self) -> int:
        now = self.clock()
        while self.restart_times and now - self.restart_times[0] >= self.rules.window_s:
            self.restart_times.popleft()
        return len(self.restart_times)

    def _restart(self, action: Action) -> Action:
        if self.restarts_in_window() >= self.rules.max_restarts:
            return Action.GIVE_UP
        return action

    def server_exited(self) -> Action:
        return self._restart(Action.RESTART_NOW)

    def stubs_missing(self) -> Action:
        return self._restart(Action.RESTART_NOW)

    def liveness(self, check: LivenessCheck) -> tuple[Action, dict[str, str]]:
        """The action for this round's liveness check, and the hung subjects with why."""
        failing = unresponsive(check)
        hung = self.hangs.observe(failing)
        if not hung:
            return Action.NONE, {}
        return self._restart(Action.RESTART_NOW), {subject: failing[subject] for subject in hung}

    def probe_result(self, outcome: ProbeOutcome) -> Action:
        if outcome is ProbeOutcome.OK:
            self.consecutive_failures = 0
            return Action.NONE
        if outcome is ProbeOutcome.BUSY:
            return Action.NONE
        if outcome is ProbeOutcome.DEAD_STUB:
            return self._restart(Action.RESTART_NOW)
        self.consecutive_failures += 1
        if self.consecutive_failures >= self.rules.failures_to_restart:
            return self._restart(Action.RESTART_DRAINED)
        return Action.NONE

    def restarted(self) -> None:
        self.restart_times.append(self.clock())
        self.consecutive_failures = 0
        self.hangs.reset()
