"""ephemeral_triton's lifecycle with a stand-in process: probe, log tail, always stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandarin_tts.serving import ephemeral
from mandarin_tts.serving.server import ServerOptions


class FakeProcess:
    instances: list[FakeProcess] = []

    def __init__(self, opts: ServerOptions, log_path: Path, work_dir: Path) -> None:
        self.opts, self.log_path, self.work_dir = opts, log_path, work_dir
        self.events: list[str] = []
        FakeProcess.instances.append(self)

    @property
    def http_url(self) -> str:
        return f"{self.opts.host}:{self.opts.http_port}"

    def start(self) -> None:
        self.events.append("start")

    def wait_ready(self, timeout_s: float) -> None:
        self.events.append(f"ready {timeout_s:.0f}")

    def log_tail(self, lines: int) -> str:
        return "the last log line"

    def stop(self) -> None:
        self.events.append("stop")


@pytest.fixture()
def probes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    FakeProcess.instances.clear()
    monkeypatch.setattr(ephemeral, "TritonProcess", FakeProcess)
    monkeypatch.setattr(ephemeral, "probe", lambda url, text: calls.append((url, text)))
    return calls


def test_serves_probes_and_stops(probes: list[tuple[str, str]], tmp_path: Path) -> None:
    with ephemeral.ephemeral_triton(tmp_path / "repo", tmp_path, admin_key="k") as process:
        assert isinstance(process, FakeProcess)
        assert process.events == ["start", "ready 300"]
        opts = process.opts
        assert len({opts.http_port, opts.grpc_port, opts.metrics_port}) == 3
        assert opts.admin_key == "k" and opts.repository == tmp_path / "repo"
        assert process.log_path == tmp_path / "tritonserver.log"
    assert probes == [(process.http_url, ephemeral.PROBE_TEXT)]
    assert process.events[-1] == "stop"
    assert tmp_path.exists()  # a caller's work dir is kept (its log may be wanted)


def test_a_temporary_work_dir_is_removed(probes: list[tuple[str, str]], tmp_path: Path) -> None:
    with ephemeral.ephemeral_triton(tmp_path, probe_text=None) as process:
        work = process.work_dir.parent
        assert work.is_dir()
    assert not work.exists() and probes == []


def test_a_failed_probe_reports_the_log_and_stops(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    FakeProcess.instances.clear()
    monkeypatch.setattr(ephemeral, "TritonProcess", FakeProcess)

    def failing_probe(url: str, text: str) -> None:
        raise RuntimeError("silent audio")

    monkeypatch.setattr(ephemeral, "probe", failing_probe)
    reports: list[str] = []
    with (
        pytest.raises(RuntimeError, match="silent audio"),
        ephemeral.ephemeral_triton(tmp_path, tmp_path, report=reports.append),
    ):
        pytest.fail("the block must not run")
    assert len(reports) == 1 and "the last log line" in reports[0]
    assert FakeProcess.instances[0].events[-1] == "stop"


def test_an_error_in_the_block_still_stops(probes: list[tuple[str, str]], tmp_path: Path) -> None:
    with pytest.raises(KeyError), ephemeral.ephemeral_triton(tmp_path, tmp_path):
        raise KeyError("boom")
    assert FakeProcess.instances[0].events[-1] == "stop"
