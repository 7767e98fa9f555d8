"""What the deployments rely on from the launcher's tritonserver command line: loopback
only, model control off, admin APIs behind the header token (docs/security.md)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from server_helpers import UnstartableServer

from mandarin_tts.serving import server

# Admin API groups that docs/security.md promises are behind the token.
PROMISED_RESTRICTED = {"model-repository", "model-config", "shared-memory", "trace", "logging"}


def command(admin_key: str | None = "s3cret") -> list[str]:
    opts = server.ServerOptions(repository=Path("/opt/tts/repository"), admin_key=admin_key)
    return server.server_command(Path("/opt/tritonserver"), opts)


def flag(cmd: list[str], name: str) -> list[str]:
    return [arg.split("=", 1)[1] for arg in cmd if arg.startswith(f"--{name}=")]


def test_every_endpoint_binds_loopback_by_default() -> None:
    cmd = command()
    for name in ("http-address", "grpc-address", "metrics-address"):
        assert flag(cmd, name) == ["127.0.0.1"], name


def test_model_control_is_off() -> None:
    assert flag(command(), "model-control-mode") == ["none"]


def test_admin_apis_need_the_header_token_on_http_and_grpc() -> None:
    cmd = command("s3cret")
    for name in ("http-restricted-api", "grpc-restricted-protocol"):
        (value,) = flag(cmd, name)
        apis, header = value.split(":", 1)
        assert set(apis.split(",")) >= PROMISED_RESTRICTED
        assert header == f"{server.ADMIN_HEADER}=s3cret"
    # Inference and health are never restricted: the frontend and probes need them.
    assert not {"inference", "health"} & set(server.RESTRICTED_APIS)


def test_launcher_takes_the_admin_key_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    launcher = importlib.import_module("mandarin_tts.serving.launcher")
    render = importlib.import_module("mandarin_tts.serving.render")
    tiers = importlib.import_module("mandarin_tts.serving.tiers")
    repository = render.render(tiers.get_tier("cpu-2"), tmp_path / "repository")
    monkeypatch.setenv(launcher.REPOSITORY_ENV, str(repository))
    monkeypatch.setenv("MANDARIN_TTS_ADMIN_KEY", "from-the-secret")
    monkeypatch.setattr(launcher, "ensure_models", lambda *a, **k: None)
    monkeypatch.setattr(launcher, "run_dir", lambda: tmp_path)
    monkeypatch.setattr(launcher, "TritonProcess", UnstartableServer)
    UnstartableServer.options.clear()
    launcher.main(["--tier", "cpu-2", "--no-frontend", "--no-build"])
    (opts,) = UnstartableServer.options
    assert opts.admin_key == "from-the-secret"


def test_server_runs_the_tritonserver_of_the_ngc_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The images set MANDARIN_TTS_TRITON_HOME=/opt/tritonserver and carry no pytriton."""
    home = tmp_path / "tritonserver"
    (home / "bin").mkdir(parents=True)
    (home / "backends" / "python").mkdir(parents=True)
    (home / "caches").mkdir()
    record = tmp_path / "argv.txt"
    fake = home / "bin" / "tritonserver"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$0" "$@" > {record}\n')
    fake.chmod(0o755)
    monkeypatch.setenv(server.TRITON_HOME_ENV, str(home))
    opts = server.ServerOptions(repository=tmp_path / "repository", admin_key="k")
    process = server.TritonProcess(opts, tmp_path / "log.txt", work_dir=tmp_path / "work")
    process.start()
    assert process.proc is not None
    process.proc.wait(timeout=30)
    argv = record.read_text().splitlines() if record.exists() else []
    assert argv and argv[0] == str(fake)
    assert f"--backend-directory={home / 'backends'}" in argv
