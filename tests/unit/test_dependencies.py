"""The dependency lock, the per-image requirement lists, the audit verdict and the
unpacked tritonserver wheel (scripts/setup_env.sh, docker/requirements.py, scripts/audit.py,
mandarin_tts/serving/pytriton_wheel.py)."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements" / "lock.txt"
REF_LOCK = REPO / "requirements" / "ref.lock"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_dep_test_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


requirements = _load(REPO / "docker" / "requirements.py")
audit = _load(REPO / "scripts" / "audit.py")


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lock() -> dict[str, Any]:
    return requirements.parse_lock(LOCK.read_text(encoding="utf-8"))


def test_lock_satisfies_every_declared_requirement(pyproject: dict, lock: dict) -> None:
    project = pyproject["project"]
    declared = project["dependencies"] + [
        r for extra in ("build", "dev") for r in project["optional-dependencies"][extra]
    ]
    for text in declared:
        req = Requirement(text)
        if req.marker and not req.marker.evaluate({"python_version": "3.11"}):
            continue
        entry = lock[requirements.requirement_name(req.name)]
        assert req.specifier.contains(entry.version, prereleases=True), (text, entry.version)
    for entry in lock.values():
        assert entry.hashes, f"{entry.name} has no sha256 in the lock"


def test_lock_holds_the_current_stack(lock: dict) -> None:
    def locked(name: str) -> Version:
        return Version(lock[name].version)

    assert locked("numpy").major >= 2
    assert locked("tritonclient") >= Version("2.73")
    assert locked("protobuf").major >= 5
    assert locked("aiohttp") >= Version("3.13.3")
    assert locked("locust") >= Version("2.43")
    assert lock["torch"].version == "2.13.0+cpu"  # the local CPU wheel; anything else pulls CUDA
    # Both pin numpy<2 (and more): one lives in its own venv, the other is only unpacked.
    assert "tensorflow-cpu" not in lock and "tensorflow" not in lock
    assert "nvidia-pytriton" not in lock


def test_reference_lock_is_tensorflow_215_with_hashes() -> None:
    ref = requirements.parse_lock(REF_LOCK.read_text(encoding="utf-8"))
    assert ref["tensorflow-cpu"].version == "2.15.1"
    assert Version(ref["numpy"].version).major == 1
    assert all(entry.hashes for entry in ref.values())


def test_pip_triton_stubs_get_numpy_1_ahead_of_the_venv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Triton 2.51's Python-backend stub crashes on numpy 2 (its pybind11 is too old)."""
    import sysconfig

    from mandarin_tts.serving import server

    stub = requirements.parse_lock((REPO / "requirements" / "stub.lock").read_text("utf-8"))
    assert list(stub) == ["numpy"] and Version(stub["numpy"].version).major == 1
    monkeypatch.delenv(server.TRITON_HOME_ENV, raising=False)
    paths = server.server_env({"PATH": "/bin"})["PYTHONPATH"].split(":")
    overlay = next(p for p in paths if "triton-stub-overlay" in p)
    assert (Path(overlay) / "numpy" / "__init__.py").exists()
    assert paths.index(overlay) < paths.index(sysconfig.get_paths()["purelib"])
    ngc = server.server_env({"PATH": "/bin", server.TRITON_HOME_ENV: "/opt/tritonserver"})
    assert "triton-stub-overlay" not in ngc["PYTHONPATH"]  # NGC >= 26.03 handles numpy 2


def test_an_ngc_style_home_made_from_the_wheel_gets_the_overlay(tmp_path: Path) -> None:
    """deploy/smoke_local.py lays the wheel out like /opt/tritonserver: still the 2.51 stub."""
    from mandarin_tts.serving import server
    from mandarin_tts.serving.stub_overlay import runs_the_wheel_stub

    home = tmp_path / "tritonserver"
    (home / "backends" / "python").mkdir(parents=True)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    wheel_stub = server.pytriton_root() / "tritonserver" / "python_backend_stubs" / version
    (home / "backends" / "python" / "triton_python_backend_stub").symlink_to(
        wheel_stub / "triton_python_backend_stub"
    )
    assert runs_the_wheel_stub(str(home)) and runs_the_wheel_stub(None)
    assert not runs_the_wheel_stub(str(tmp_path / "elsewhere"))
    env = server.server_env({"PATH": "/bin", server.TRITON_HOME_ENV: str(home)})
    assert "triton-stub-overlay" in env["PYTHONPATH"]


def test_this_venv_holds_the_lock() -> None:
    """`pip list` of a venv made by scripts/setup_env.sh equals the lock, version for version."""
    marker = Path(sys.prefix) / ".lock-installed"
    if not marker.exists():
        pytest.skip("this interpreter's environment was not installed from the lock")
    import hashlib

    assert marker.read_text().strip() == hashlib.sha256(LOCK.read_bytes()).hexdigest(), (
        "requirements/lock.txt changed since this venv was installed: run `make setup`"
    )
    for entry in requirements.parse_lock(LOCK.read_text(encoding="utf-8")).values():
        try:
            installed = version(entry.name)
        except PackageNotFoundError:
            pytest.fail(f"{entry.name} is locked but not installed")
        assert Version(installed) == Version(entry.version), entry.name
    for absent in ("tensorflow-cpu", "nvidia-pytriton"):
        with pytest.raises(PackageNotFoundError):
            version(absent)


def test_image_lists_are_the_locked_closure(pyproject: dict, lock: dict) -> None:
    text = LOCK.read_text(encoding="utf-8")

    def names(flavor: str) -> dict[str, str]:
        lines = requirements.locked_requirements(pyproject, flavor, text)
        return {requirements.requirement_name(line): line for line in lines}

    cpu, models, frontend = names("cpu"), names("models"), names("frontend")
    # tritonclient[grpc,http] brings grpcio, protobuf and geventhttpclient along.
    assert {"tritonclient", "grpcio", "protobuf", "geventhttpclient", "numpy"} <= cpu.keys()
    assert "torch" not in cpu and "torch" in models and "onnx" in models
    assert "onnxruntime" not in frontend and "pytest" not in cpu
    for name, line in cpu.items():
        assert line.startswith(f"{name}=={lock[name].version}") and "--hash=sha256:" in line
    gpu = requirements.locked_requirements(pyproject, "gpu", text)
    onnxruntime = lock["onnxruntime"].version
    assert f"onnxruntime-gpu[cuda,cudnn]=={onnxruntime}" in gpu
    assert not any("--hash" in line for line in gpu)  # pip needs all lines hashed or none
    assert "python_version" in cpu["tomli"]  # its marker travels with the pin


def test_a_requirement_missing_from_the_lock_is_an_error(pyproject: dict, lock: dict) -> None:
    with pytest.raises(ValueError, match="not in the lock"):
        requirements.locked_closure(["no-such-package>=1"], lock)


def _report(*deps: dict[str, Any]) -> dict[str, Any]:
    return {"dependencies": list(deps), "fixes": []}


def _vuln(vid: str, fixes: list[str], aliases: list[str] | None = None) -> dict[str, Any]:
    return {"id": vid, "fix_versions": fixes, "aliases": aliases or [], "description": ""}


def test_audit_fails_on_a_fixable_vulnerability_even_if_ignored() -> None:
    report = _report({"name": "aiohttp", "version": "3.9.0", "vulns": [_vuln("GHSA-1", ["3.9.4"])]})
    verdict = audit.judge(report, {"GHSA-1"})
    assert verdict.exit_code(strict=False) == 1
    assert "fixed in 3.9.4" in verdict.failures[0]


def test_audit_accepts_exactly_the_documented_unfixable_ids() -> None:
    dep = {"name": "x", "version": "1", "vulns": [_vuln("PYSEC-9", [], ["CVE-2099-1"])]}
    assert audit.judge(_report(dep), {"CVE-2099-1"}).exit_code(strict=True) == 0
    undocumented = audit.judge(_report(dep), set())
    assert undocumented.exit_code(strict=False) == 1
    stale = audit.judge(_report({"name": "y", "version": "2", "vulns": []}), {"CVE-2099-1"})
    assert stale.stale_ignores == ["CVE-2099-1"] and stale.exit_code(strict=True) == 0


def test_an_incomplete_audit_fails_only_when_strict() -> None:
    report = _report({"name": "numpy", "skip_reason": "Dependency not found on PyPI"})
    verdict = audit.judge(report, set())
    assert verdict.unaudited and verdict.exit_code(strict=False) == 0
    assert verdict.exit_code(strict=True) == 1


def test_skipped_pins_that_are_the_newest_release_are_judged_from_the_project_data() -> None:
    pins = audit.pinned_versions(
        "aiohttp==3.14.5 \\\n    --hash=sha256:ab\nPyYAML==6.0.4 ; python_version >= '3'\n"
        "old-lib==1.0\n"
    )
    assert pins == {"aiohttp": "3.14.5", "pyyaml": "6.0.4", "old-lib": "1.0"}
    projects = {
        "aiohttp": {"info": {"version": "3.14.5"}, "vulnerabilities": [
            {"id": "GHSA-2", "aliases": ["CVE-2099-2"], "fixed_in": ["3.14.6"], "withdrawn": None},
            {"id": "GHSA-3", "aliases": [], "fixed_in": [], "withdrawn": "2026-01-01"},
        ]},
        "PyYAML": {"info": {"version": "6.0.4"}, "vulnerabilities": []},
        "old-lib": {"info": {"version": "2.0"}, "vulnerabilities": []},
    }  # fmt: skip
    report = _report(
        *({"name": name, "skip_reason": "Dependency not found on PyPI"} for name in projects)
    )
    settled = audit.settle_from_project_json(report, pins, lambda url: projects[url.split("/")[-2]])
    assert settled == 2
    verdict = audit.judge(report, set())
    # The newest aiohttp has a fixable advisory (withdrawn ones do not count): the audit
    # fails; the older pin stays unaudited, because the project data speaks of 2.0 only.
    assert verdict.failures == ["aiohttp==3.14.5 GHSA-2 fixed in 3.14.6 -> bump it (make lock)"]
    assert [line.split(":")[0] for line in verdict.unaudited] == ["old-lib"]


def test_every_accepted_id_is_documented_in_security_md() -> None:
    ignored = audit.ignored_ids(audit.IGNORE_FILE.read_text(encoding="utf-8"))
    security = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    assert all(vid in security for vid in ignored), sorted(ignored)


def test_pytriton_unpacking_keeps_executable_bits_and_only_the_server(tmp_path: Path) -> None:
    from mandarin_tts.serving import pytriton_wheel

    wheel = tmp_path / "fake.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, mode in (
            ("pytriton/tritonserver/bin/tritonserver", 0o777),
            ("pytriton/tritonserver/backends/python/triton_python_backend_utils.py", 0o644),
            ("nvidia_pytriton.libs/libfoo.so", 0o755),
            ("pytriton/__init__.py", 0o644),
        ):
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, b"x")
    target = tmp_path / "out"
    pytriton_wheel._extract(wheel, target)
    server = target / "pytriton" / "tritonserver" / "bin" / "tritonserver"
    assert server.stat().st_mode & 0o777 == 0o755  # executable, not world-writable
    utils = target / "pytriton/tritonserver/backends/python/triton_python_backend_utils.py"
    assert utils.stat().st_mode & 0o111 == 0
    assert (target / "nvidia_pytriton.libs" / "libfoo.so").stat().st_mode & 0o100
    assert not (target / "pytriton" / "__init__.py").exists()  # its Python code is not needed
