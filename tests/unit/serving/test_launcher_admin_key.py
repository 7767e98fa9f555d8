"""The launcher's admin token: the deployment's MANDARIN_TTS_ADMIN_KEY, else a random one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from server_helpers import UnstartableServer

from mandarin_tts.serving import launcher, server


def test_the_provided_key_is_used_as_is() -> None:
    assert launcher.admin_key_from_env({launcher.ADMIN_KEY_ENV: " from-the-secret\n"}) == (
        "from-the-secret"
    )


@pytest.mark.parametrize("env", [{}, {launcher.ADMIN_KEY_ENV: ""}, {launcher.ADMIN_KEY_ENV: "  "}])
def test_without_a_key_a_fresh_random_one_is_generated(env: dict[str, str]) -> None:
    first, second = launcher.admin_key_from_env(env), launcher.admin_key_from_env(env)
    assert len(first) == 32 and first != second


def test_statistics_need_the_admin_key() -> None:
    assert "statistics" in server.RESTRICTED_APIS
    cmd = server.server_command(
        Path("/opt/tritonserver"), server.ServerOptions(repository=Path("/r"), admin_key="k")
    )
    restricted = [a for a in cmd if a.startswith("--http-restricted-api=")]
    assert restricted and "statistics" in restricted[0].split("=", 1)[1].split(":")[0]


def test_the_key_file_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """main() writes the key where only the owner can read it, also when it already exists."""

    from mandarin_tts.serving import render, tiers

    repository = render.render(tiers.get_tier("cpu-2"), tmp_path / "repository")
    monkeypatch.setenv(launcher.REPOSITORY_ENV, str(repository))
    monkeypatch.setenv(launcher.ADMIN_KEY_ENV, "from-the-secret")
    monkeypatch.setattr(launcher, "ensure_models", lambda *a, **k: None)
    monkeypatch.setattr(launcher, "run_dir", lambda: tmp_path)
    monkeypatch.setattr(launcher, "TritonProcess", UnstartableServer)
    key_file = tmp_path / "port-8000" / "admin_key"
    key_file.parent.mkdir()
    key_file.write_text("stale")
    key_file.chmod(0o644)
    launcher.main(["--tier", "cpu-2", "--no-frontend", "--no-build"])
    assert key_file.read_text() == "from-the-secret"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
