import sys
from pathlib import Path

from mandarin_tts.serving import server as s


def test_command_binds_localhost_disables_model_control_and_restricts_admin_apis(tmp_path):
    opts = s.ServerOptions(repository=tmp_path / "repo", admin_key="secret")
    cmd = s.server_command(tmp_path, opts)
    assert cmd[0] == str(tmp_path / "bin" / "tritonserver")
    for flag in (
        "--http-address=127.0.0.1",
        "--grpc-address=127.0.0.1",
        "--metrics-address=127.0.0.1",
        "--model-control-mode=none",
        f"--model-repository={tmp_path / 'repo'}",
        f"--backend-directory={tmp_path / 'backends'}",
    ):
        assert flag in cmd
    restricted = [a for a in cmd if a.startswith(("--http-restricted", "--grpc-restricted"))]
    assert len(restricted) == 2
    for arg in restricted:
        assert arg.endswith(f":{s.ADMIN_HEADER}=secret")
        assert "model-repository" in arg and "model-config" in arg
        assert "inference" not in arg and "health" not in arg


def test_without_admin_key_nothing_is_restricted(tmp_path):
    cmd = s.server_command(tmp_path, s.ServerOptions(repository=tmp_path))
    assert not [a for a in cmd if "restricted" in a]


def test_install_links_the_stub_for_the_running_python(tmp_path):
    install = s.prepare_install(tmp_path / "w")
    stub = install / "backends" / "python" / "triton_python_backend_stub"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert stub.resolve().parent.name == version
    assert (install / "bin" / "tritonserver").exists()
    assert (install / "backends" / "python" / "libtriton_python.so").exists()
    assert (install / "caches" / "local").is_dir()
    assert s.prepare_install(tmp_path / "w") == install  # idempotent


def test_existing_triton_home_is_used_as_is(tmp_path, monkeypatch):
    monkeypatch.setenv(s.TRITON_HOME_ENV, "/opt/tritonserver")
    assert s.prepare_install(tmp_path) == Path("/opt/tritonserver")
    assert "nvidia_pytriton.libs" not in s.server_env().get("LD_LIBRARY_PATH", "")


def test_env_puts_the_project_and_wheel_libraries_on_the_paths(monkeypatch):
    monkeypatch.delenv(s.TRITON_HOME_ENV, raising=False)
    env = s.server_env({"PATH": "/bin"})
    assert "nvidia_pytriton.libs" in env["LD_LIBRARY_PATH"]
    assert str(s.PROJECT_ROOT) in env["PYTHONPATH"].split(":")
