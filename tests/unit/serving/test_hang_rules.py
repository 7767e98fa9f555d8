"""Hang detection in the launcher's rules (mandarin_tts.serving.supervision), on a fake
clock and a fake /proc: a server or stub that fails every liveness check for hang_after_s
is replaced at once; one that answers, however slowly it serves, never is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mandarin_tts.serving import supervision
from mandarin_tts.serving.supervision import (
    Action,
    HangDetector,
    LivenessCheck,
    ProbeOutcome,
    RestartRules,
    Supervisor,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


LIVE = LivenessCheck(server_answers=True, server_state="S", stub_states={11: "S", 12: "R"})
SILENT = LivenessCheck(server_answers=False, server_state="S", stub_states={11: "S"})
STOPPED = LivenessCheck(server_answers=False, server_state="T", stub_states={11: "S"})
STUB_STOPPED = LivenessCheck(server_answers=True, server_state="S", stub_states={11: "T"})


def supervisor(**rules: float) -> tuple[Supervisor, FakeClock]:
    clock = FakeClock()
    return Supervisor(RestartRules(**rules), clock=clock), clock  # type: ignore[arg-type]


def run(sup: Supervisor, clock: FakeClock, check: LivenessCheck, seconds: int) -> list[Action]:
    """One liveness round per second for `seconds` seconds."""
    actions = []
    for _ in range(seconds):
        actions.append(sup.liveness(check)[0])
        clock.now += 1.0
    return actions


@pytest.mark.parametrize(
    ("check", "subject", "why"),
    [
        (SILENT, "tritonserver", "no answer on /v2/health/live"),
        (STOPPED, "tritonserver", "process state T"),
        (STUB_STOPPED, "stub 11", "process state T"),
        (LivenessCheck(True, "D", {}), "tritonserver", "process state D"),
        (LivenessCheck(True, "S", {7: "t"}), "stub 7", "process state t"),
    ],
)
def test_what_fails_a_liveness_check(check: LivenessCheck, subject: str, why: str) -> None:
    assert supervision.unresponsive(check) == {subject: why}


def test_a_live_server_with_running_or_sleeping_stubs_passes() -> None:
    assert supervision.unresponsive(LIVE) == {}
    # A stopped server is reported by its state, not twice.
    assert list(supervision.unresponsive(STOPPED)) == ["tritonserver"]


@pytest.mark.parametrize("check", [SILENT, STOPPED, STUB_STOPPED])
def test_a_hang_restarts_at_once_after_hang_after_s(check: LivenessCheck) -> None:
    sup, clock = supervisor(hang_after_s=15.0)
    actions = run(sup, clock, check, 15)  # checks at t = 0 .. 14 s
    assert actions == [Action.NONE] * 15
    action, hung = sup.liveness(check)  # t = 15 s
    assert action is Action.RESTART_NOW  # a hung server drains nothing
    assert list(hung) == list(supervision.unresponsive(check))


def test_one_answered_check_clears_a_suspected_hang() -> None:
    # A SIGSTOP shorter than hang_after_s, a GC pause or a page-in storm.
    sup, clock = supervisor(hang_after_s=15.0)
    for _ in range(5):
        assert set(run(sup, clock, STOPPED, 14)) == {Action.NONE}
        assert sup.liveness(LIVE)[0] is Action.NONE
        clock.now += 1.0


def test_a_busy_server_that_answers_liveness_is_never_restarted() -> None:
    # Timed-out end-to-end probes for ten minutes, while /v2/health/live answers.
    sup, clock = supervisor(hang_after_s=15.0, failures_to_restart=1)
    for _ in range(600):
        assert sup.liveness(LIVE)[0] is Action.NONE
        assert sup.probe_result(ProbeOutcome.BUSY) is Action.NONE
        clock.now += 1.0


def test_each_subject_has_its_own_clock() -> None:
    # Stub 11 stopped at t=0, stub 12 at t=10: at t=15 only stub 11 has hung.
    detector = HangDetector(15.0, clock := FakeClock())
    for second in range(16):
        failing = ["stub 11"] + (["stub 12"] if second >= 10 else [])
        hung = detector.observe(failing)
        clock.now += 1.0
    assert hung == ["stub 11"]
    # Stub 11 passed a check (its clock is reset); stub 12 reaches 15 s at t=25.
    clock.now = 1025.0
    assert detector.observe(["stub 12"]) == ["stub 12"]
    assert detector.observe(["stub 11", "stub 12"]) == ["stub 12"]


def test_a_restart_forgets_suspected_hangs_and_hangs_count_in_the_budget() -> None:
    sup, clock = supervisor(hang_after_s=5.0, max_restarts=1)
    run(sup, clock, STOPPED, 5)
    assert sup.liveness(STOPPED)[0] is Action.RESTART_NOW
    sup.restarted()
    assert sup.liveness(STOPPED)[0] is Action.NONE  # the new server's clock starts now
    run(sup, clock, STOPPED, 5)
    assert sup.liveness(STOPPED)[0] is Action.GIVE_UP


@pytest.mark.parametrize(
    "rules", [{"hang_after_s": 1.0, "liveness_timeout_s": 2.0}, {"liveness_timeout_s": 0.0}]
)
def test_hang_rules_are_checked(rules: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid restart rules"):
        RestartRules(**rules)  # type: ignore[arg-type]


def test_stat_lines_with_odd_names_are_parsed() -> None:
    stat = supervision.parse_stat("4242 (python (x) y) T 17 4242 0 0 -1 4194560 12 0 0")
    assert (stat.pid, stat.name, stat.state, stat.ppid) == (4242, "python (x) y", "T", 17)


def test_stub_states_come_from_proc(tmp_path: Path) -> None:
    def fake_proc(pid: int, name: str, state: str, ppid: int) -> None:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(f"{pid} ({name}) {state} {ppid} 0 0 -1\n")

    fake_proc(10, "tritonserver", "S", 1)
    fake_proc(11, "triton_python_b", "T", 10)
    fake_proc(12, "triton_python_b", "S", 10)
    fake_proc(13, "triton_python_b", "Z", 10)
    stubs = supervision.stub_stats(10, proc_root=tmp_path)
    assert {s.pid: s.state for s in stubs} == {11: "T", 12: "S"}
    assert supervision.read_stat(10, proc_root=tmp_path).state == "S"  # type: ignore[union-attr]
    assert supervision.read_stat(99, proc_root=tmp_path) is None


def test_this_process_reads_as_running() -> None:
    stat = supervision.read_stat(os.getpid())
    assert stat is not None and stat.state not in supervision.UNRESPONSIVE_STATES


def test_the_launchers_liveness_round_reads_state_and_http() -> None:
    from mandarin_tts.serving.launcher import check_liveness

    # This process as the "server", nothing listening on its port: running, not answering.
    check = check_liveness(os.getpid(), "127.0.0.1:1", [], timeout_s=0.5)
    assert check.server_state not in supervision.UNRESPONSIVE_STATES
    assert not check.server_answers and check.stub_states == {}
    assert supervision.unresponsive(check) == {"tritonserver": "no answer on /v2/health/live"}
