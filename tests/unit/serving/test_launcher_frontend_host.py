"""--frontend-host: publish the HTTP frontend while Triton keeps --host (loopback)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from mandarin_tts.serving import launcher


class FakeServer:
    grpc_url = "127.0.0.1:8001"


def started_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str]) -> list[str]:
    seen: list[list[str]] = []
    real_popen = subprocess.Popen  # launcher.subprocess is this module: patched below

    def fake_popen(cmd: list[str], **kwargs: Any) -> Any:
        seen.append(cmd)
        return real_popen(["true"])

    monkeypatch.setattr(launcher.subprocess, "Popen", fake_popen)
    proc = launcher.start_frontend(launcher.parse_args(argv), FakeServer(), tmp_path)  # type: ignore[arg-type]
    assert proc is not None
    proc.wait()
    return seen[0]


def test_defaults_to_the_triton_host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    args = launcher.parse_args([])
    assert args.host == args.frontend_host == "127.0.0.1"
    cmd = started_command(monkeypatch, tmp_path, ["--host", "10.1.2.3"])
    assert cmd[cmd.index("--host") + 1] == "10.1.2.3"


def test_binds_only_the_frontend_publicly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    args = launcher.parse_args(["--frontend-host", "0.0.0.0"])
    assert (args.host, args.frontend_host) == ("127.0.0.1", "0.0.0.0")
    cmd = started_command(monkeypatch, tmp_path, ["--frontend-host", "0.0.0.0"])
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"


@pytest.mark.parametrize(
    "bound,expected",
    [("0.0.0.0", "127.0.0.1"), ("::", "[::1]"), ("10.1.2.3", "10.1.2.3"), ("::1", "[::1]")],
)
def test_readiness_is_probed_where_the_frontend_is_reachable(bound: str, expected: str) -> None:
    proc = subprocess.Popen(["true", "--host", bound])
    proc.wait()
    assert launcher.frontend_probe_host(proc, "127.0.0.1") == expected
    bare = subprocess.Popen(["true"])
    bare.wait()
    assert launcher.frontend_probe_host(bare, "fallback") == "fallback"
