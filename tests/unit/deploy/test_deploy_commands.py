"""The container commands are the local commands: every argv that docker-compose.yml and
deploy/k8s run is accepted by the real command-line parsers of the launcher and the
frontend (the ones `make serve` and the integration tests use)."""

from __future__ import annotations

import importlib
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import dockerfile
import pytest
from deploy_helpers import DOCKERFILE, REPO, import_render_k8s, load_compose, load_k8s_documents


def module_args(command: list[str], module: str) -> list[str]:
    assert command[1:3] == ["-m", module], command
    return command[3:]


def compose_commands(module: str) -> list[list[str]]:
    return [
        svc["command"]
        for svc in load_compose()["services"].values()
        if svc.get("command", [None, None, None])[2:3] == [module]
    ]


def k8s_commands(container: str) -> list[list[str]]:
    return [
        c["command"]
        for _, doc in load_k8s_documents()
        if doc["kind"] == "Deployment"
        for c in doc["spec"]["template"]["spec"]["containers"]
        if c["name"] == container
    ]


def test_launcher_accepts_every_deployed_command() -> None:
    launcher = importlib.import_module("mandarin_tts.serving.launcher")
    commands = compose_commands("mandarin_tts.serving.launcher") + k8s_commands("triton")
    assert len(commands) >= 2 + 7
    for command in commands:
        args: Any = launcher.parse_args(module_args(command, "mandarin_tts.serving.launcher"))
        assert args.no_frontend and args.no_build
        assert args.host == "127.0.0.1"  # the default: the deployments never override it
        assert (args.http_port, args.grpc_port, args.metrics_port) == (8000, 8001, 8002)


def test_every_deployed_tier_exists() -> None:
    from mandarin_tts.serving.tiers import load_tiers

    tiers = load_tiers()
    for command in compose_commands("mandarin_tts.serving.launcher") + k8s_commands("triton"):
        assert command[command.index("--tier") + 1] in tiers


def test_frontend_accepts_every_deployed_command() -> None:
    frontend_main = pytest.importorskip("frontend.__main__")
    commands = compose_commands("frontend") + k8s_commands("frontend")
    assert len(commands) >= 1 + 7
    for command in commands:
        config = frontend_main.parse_args(module_args(command, "frontend"))
        assert config.port == 8080 and config.triton_grpc == "127.0.0.1:8001"


def test_kubernetes_admission_limit_matches_the_tier_table() -> None:
    frontend_main = pytest.importorskip("frontend.__main__")
    render_k8s = import_render_k8s()
    for _, doc in load_k8s_documents():
        if doc["kind"] != "Deployment":
            continue
        tier = doc["metadata"]["labels"]["mandarin-tts/tier"]
        (frontend,) = [
            c for c in doc["spec"]["template"]["spec"]["containers"] if c["name"] == "frontend"
        ]
        config = frontend_main.parse_args(module_args(frontend["command"], "frontend"))
        assert config.max_active_requests == render_k8s.TIER_RESOURCES[tier].max_active


def dockerfile_stage_env(stage: str) -> dict[str, str]:
    env: dict[str, str] = {}
    current = None
    for ins in dockerfile.parse_file(str(DOCKERFILE)):
        if ins.cmd == "FROM":
            current = ins.value[-1]
        elif ins.cmd == "ENV" and current == stage:
            env.update(zip(ins.value[::2], ins.value[1::2], strict=True))
    return env


def test_the_images_render_command_writes_a_valid_repository(tmp_path: Path) -> None:
    render = importlib.import_module("mandarin_tts.serving.render")
    (builder_run,) = [
        ins.value[0]
        for ins in dockerfile.parse_file(str(DOCKERFILE))
        if ins.cmd == "RUN" and "mandarin_tts.serving.render" in ins.value[0]
    ]
    step = next(s for s in builder_run.split("&&") if "mandarin_tts.serving.render" in s)
    argv = shlex.split(step.replace("${TIER}", "gpu-t4"))
    assert argv[:3] == ["python", "-m", "mandarin_tts.serving.render"]
    out = argv[argv.index("--out") + 1]
    assert out == dockerfile_stage_env("triton")["MANDARIN_TTS_MODEL_REPOSITORY"]
    argv[argv.index("--out") + 1] = str(tmp_path / "repository")
    assert render.main(argv[3:]) == 0
    configs = render.load_repository(tmp_path / "repository")
    assert set(configs) >= {"tts"}
    render.validate(configs)


def test_the_images_environment_names_are_the_ones_the_code_reads() -> None:
    launcher = importlib.import_module("mandarin_tts.serving.launcher")
    env = dockerfile_stage_env("triton")
    assert launcher.REPOSITORY_ENV in env
    # MANDARIN_TTS_CACHE moves the models directory (mandarin_tts.paths).
    probe = subprocess.run(
        [sys.executable, "-c", "from mandarin_tts.paths import MODELS_DIR; print(MODELS_DIR)"],
        env={**os.environ, "MANDARIN_TTS_CACHE": env["MANDARIN_TTS_CACHE"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert probe.stdout.strip() == f"{env['MANDARIN_TTS_CACHE']}/models"


def test_the_triton_images_default_command_is_the_deployed_one() -> None:
    launcher = importlib.import_module("mandarin_tts.serving.launcher")
    stages = {}
    current = None
    for ins in dockerfile.parse_file(str(DOCKERFILE)):
        if ins.cmd == "FROM":
            current = ins.value[-1]
        elif ins.cmd == "CMD":
            stages[current] = list(ins.value)
    shell, flag, script = stages["triton"]
    assert (shell, flag) == ("sh", "-c")
    argv = shlex.split(script.replace('"$MANDARIN_TTS_TIER"', "cpu-2"))
    assert argv[:4] == ["exec", "python3", "-m", "mandarin_tts.serving.launcher"]
    args = launcher.parse_args(argv[4:])
    assert args.no_frontend and args.no_build and args.host == "127.0.0.1"
    frontend_main = pytest.importorskip("frontend.__main__")
    config = frontend_main.parse_args(module_args(stages["frontend"], "frontend"))
    assert config.triton_grpc == "127.0.0.1:8001"


def test_the_locust_services_run_the_projects_locustfile() -> None:
    locustfile = REPO / "loadtest" / "locustfile.py"
    for name in ("locust-master", "locust-worker"):
        command = load_compose()["services"][name]["command"]
        assert command[command.index("-f") + 1] == "/opt/tts/app/loadtest/locustfile.py"
    listed = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(locustfile), "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert listed.returncode == 0 and listed.stdout.strip(), listed.stderr


def test_the_triton_image_points_the_launcher_at_the_ngc_server() -> None:
    server = importlib.import_module("mandarin_tts.serving.server")
    assert dockerfile_stage_env("triton")[server.TRITON_HOME_ENV] == "/opt/tritonserver"
