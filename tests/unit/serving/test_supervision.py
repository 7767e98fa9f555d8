"""The launcher's restart rules (mandarin_tts.serving.supervision) on a fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandarin_tts.serving import supervision
from mandarin_tts.serving.render import load_repository
from mandarin_tts.serving.supervision import Action, ProbeOutcome, RestartRules, Supervisor
from mandarin_tts.serving.tiers import get_tier


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def supervisor(**rules: float) -> tuple[Supervisor, FakeClock]:
    clock = FakeClock()
    return Supervisor(RestartRules(**rules), clock=clock), clock  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "outcome"),
    [
        ("[StatusCode.INTERNAL] Failed to process the request(s) for model 'vocoder_0_0', "
         "message: Stub process 'vocoder_0_0' is not healthy.", ProbeOutcome.DEAD_STUB),
        ("[Errno 111] Connection refused", ProbeOutcome.FAILED),
        ("audio is silent (rms 1.00e-05)", ProbeOutcome.FAILED),
        ("timed out", ProbeOutcome.BUSY),
        ("Deadline Exceeded", ProbeOutcome.BUSY),
        ("Exceeds maximum queue size", ProbeOutcome.BUSY),
        ("Request timeout expired", ProbeOutcome.BUSY),
    ],
)  # fmt: skip
def test_probe_errors_are_classified(message: str, outcome: ProbeOutcome) -> None:
    assert supervision.classify_probe_error(message) is outcome


def test_a_dead_server_or_stub_is_restarted_at_once_without_draining() -> None:
    sup, _ = supervisor()
    assert sup.server_exited() is Action.RESTART_NOW
    sup.restarted()
    assert sup.probe_result(ProbeOutcome.DEAD_STUB) is Action.RESTART_NOW


def test_hard_failures_restart_after_two_in_a_row_draining_first() -> None:
    sup, _ = supervisor(failures_to_restart=2)
    assert sup.probe_result(ProbeOutcome.FAILED) is Action.NONE
    assert sup.probe_result(ProbeOutcome.FAILED) is Action.RESTART_DRAINED


def test_a_good_probe_resets_the_failure_count() -> None:
    sup, _ = supervisor(failures_to_restart=2)
    assert sup.probe_result(ProbeOutcome.FAILED) is Action.NONE
    assert sup.probe_result(ProbeOutcome.OK) is Action.NONE
    assert sup.probe_result(ProbeOutcome.FAILED) is Action.NONE


def test_a_busy_server_is_never_restarted() -> None:
    # Restarting under overload would throw away every accepted request.
    sup, _ = supervisor(failures_to_restart=1)
    for _ in range(50):
        assert sup.probe_result(ProbeOutcome.BUSY) is Action.NONE


def test_a_restart_clears_the_failure_count() -> None:
    sup, _ = supervisor(failures_to_restart=2)
    sup.probe_result(ProbeOutcome.FAILED)
    sup.restarted()
    assert sup.probe_result(ProbeOutcome.FAILED) is Action.NONE


def test_it_gives_up_after_too_many_restarts_within_the_window() -> None:
    sup, clock = supervisor(max_restarts=3, window_s=600.0)
    for _ in range(3):
        assert sup.server_exited() is Action.RESTART_NOW
        sup.restarted()
        clock.now += 10.0
    assert sup.server_exited() is Action.GIVE_UP
    assert sup.probe_result(ProbeOutcome.DEAD_STUB) is Action.GIVE_UP


def test_old_restarts_leave_the_window_so_rare_crashes_never_exhaust_it() -> None:
    sup, clock = supervisor(max_restarts=3, window_s=600.0)
    for _ in range(100):  # one crash every 5 minutes, for hours
        assert sup.server_exited() is Action.RESTART_NOW
        sup.restarted()
        clock.now += 300.0
    assert sup.restarts_in_window() <= 2


@pytest.mark.parametrize(
    "rules", [{"failures_to_restart": 0}, {"max_restarts": 0}, {"window_s": 0.0}]
)
def test_invalid_rules_are_refused(rules: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid restart rules"):
        RestartRules(**rules)  # type: ignore[arg-type]


def test_a_missing_stub_restarts_at_once_within_the_budget() -> None:
    sup, _ = supervisor(max_restarts=1)
    assert sup.stubs_missing() is Action.RESTART_NOW
    sup.restarted()
    assert sup.stubs_missing() is Action.GIVE_UP


def fake_proc(root: Path, pid: int, name: str, state: str, ppid: int) -> None:
    (root / str(pid)).mkdir()
    (root / str(pid) / "stat").write_text(f"{pid} ({name}) {state} {ppid} {pid} 0 0 -1\n")


def test_stubs_are_counted_by_parent_name_and_state(tmp_path: Path) -> None:
    fake_proc(tmp_path, 10, "tritonserver", "S", 1)
    fake_proc(tmp_path, 11, "triton_python_b", "S", 10)
    fake_proc(tmp_path, 12, "triton_python_b", "R", 10)
    fake_proc(tmp_path, 13, "triton_python_b", "Z", 10)  # dead, not yet reaped
    fake_proc(tmp_path, 14, "triton_python_b", "S", 99)  # another server's stub
    fake_proc(tmp_path, 15, "python (x) y", "S", 10)  # a name with spaces and parentheses
    assert supervision.count_stubs(10, proc_root=tmp_path) == 2


def test_every_python_backend_instance_is_one_stub() -> None:
    configs = load_repository(Path(__file__).parents[3] / "model_repository")
    tier = get_tier("cpu-2")
    assert supervision.python_backend_instances(configs) == sum(
        m.instances for m in tier.models.values()
    )
