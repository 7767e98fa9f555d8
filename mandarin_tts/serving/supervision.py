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
- more than `max_restarts` restarts within `window_s`: something is persistently wrong
  (bad model files, no memory), so give up and let the orchestrator decide. A sliding
  window, not a lifetime cap, so a service that runs for months survives rare crashes.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
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


def count_stubs(server_pid: int, proc_root: Path = Path("/proc")) -> int:
    """Live (not zombie) stub processes whose parent is `server_pid`."""
    count = 0
    for stat in proc_root.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended while we looked
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        name = text[text.find("(") + 1 : text.rfind(")")]
        fields = text[text.rfind(")") + 2 :].split()
        if name == STUB_PROCESS_NAME and fields[0] != "Z" and int(fields[1]) == server_pid:
            count += 1
    return count


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

    def __post_init__(self) -> None:
        if self.failures_to_restart < 1 or self.max_restarts < 1 or self.window_s <= 0:
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
