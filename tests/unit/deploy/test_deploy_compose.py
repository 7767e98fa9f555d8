"""docker-compose.yml: valid against the Compose specification schema, and hardened.

The schema is the compose-spec project's JSON schema as vendored (with its Apache-2.0
licence) by the `check-jsonschema` package, so no Docker engine is needed.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import sys
from typing import Any

import jsonschema
import pytest
import yaml
from deploy_helpers import (
    COMPOSE_FILE,
    MissingVariable,
    compose_variables,
    import_render_k8s,
    interpolate,
    load_compose,
)

TRITON_SERVICES = ("triton", "triton-gpu")
TRITON_PORTS = ("8000", "8001", "8002")


def compose_schema() -> dict[str, Any]:
    if sys.version_info < (3, 11):
        pytest.skip("check-jsonschema (which ships the Compose schema) needs Python >= 3.11")
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text(encoding="utf-8"))


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = compose_schema()
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    return [f"{e.json_path}: {e.message}" for e in validator_cls(schema).iter_errors(document)]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def services_for(compose: dict[str, Any], *profiles: str) -> set[str]:
    """What `docker compose --profile P ... up` starts."""
    return {
        name
        for name, svc in compose["services"].items()
        if not svc.get("profiles") or set(svc["profiles"]) & set(profiles)
    }


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []


def test_schema_check_rejects_a_misspelt_key(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["frontend"]["shm-size"] = "1gb"  # the real key is shm_size
    assert any("shm-size" in e for e in schema_errors(broken))


def test_every_variable_has_a_default_except_the_admin_key() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    with pytest.raises(MissingVariable, match="TTS_ADMIN_KEY"):
        interpolate(raw, {})
    assert "TTS_ADMIN_KEY" in compose_variables(COMPOSE_FILE.read_text(encoding="utf-8"))
    interpolate(raw, {"TTS_ADMIN_KEY": "x"})  # nothing else is required


def test_only_the_frontend_publishes_a_port(compose: dict[str, Any]) -> None:
    publishing = {
        name for name, svc in compose["services"].items() if svc.get("ports") or svc.get("expose")
    }
    assert publishing == {"frontend"}
    (mapping,) = compose["services"]["frontend"]["ports"]
    assert str(mapping).rsplit(":", 1)[-1] == "8080"
    assert not any(port in str(mapping) for port in TRITON_PORTS)


def test_triton_lives_on_the_frontends_loopback(compose: dict[str, Any]) -> None:
    for name in TRITON_SERVICES:
        svc = compose["services"][name]
        assert svc["network_mode"] == "service:frontend"
        assert "networks" not in svc
        command = svc["command"]
        assert "--no-frontend" in command
        # The launcher binds Triton to 127.0.0.1 itself; nothing may override that.
        assert not any("address" in arg or "0.0.0.0" in arg for arg in command)
    frontend_cmd = compose["services"]["frontend"]["command"]
    assert frontend_cmd[frontend_cmd.index("--triton-grpc") + 1] == "127.0.0.1:8001"


def test_exactly_one_triton_per_hardware_profile(compose: dict[str, Any]) -> None:
    for profile, expected in (("cpu", "triton"), ("gpu", "triton-gpu")):
        started = services_for(compose, profile, "loadtest")
        assert started & set(TRITON_SERVICES) == {expected}
        assert "frontend" in started


def test_gpu_profile_reserves_a_gpu_and_renders_a_gpu_tier(compose: dict[str, Any]) -> None:
    gpu = compose["services"]["triton-gpu"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert int(device["count"]) >= 1
    tier = gpu["command"][gpu["command"].index("--tier") + 1]
    assert tier.startswith("gpu-")
    assert gpu["build"]["args"]["TIER"] == tier and gpu["build"]["args"]["FLAVOR"] == "gpu"
    cpu = compose["services"]["triton"]
    assert "deploy" not in cpu
    assert cpu["build"]["args"]["TIER"] == cpu["command"][cpu["command"].index("--tier") + 1]


def test_tier_variables_change_command_build_and_image_together() -> None:
    compose = load_compose({"TTS_CPU_TIER": "cpu-16", "TTS_GPU_TIER": "gpu-l4"})
    for name, tier in (("triton", "cpu-16"), ("triton-gpu", "gpu-l4")):
        svc = compose["services"][name]
        assert svc["command"][svc["command"].index("--tier") + 1] == tier
        assert svc["build"]["args"]["TIER"] == tier
        assert svc["image"].endswith(f"-{tier}")


def test_every_service_runs_as_a_non_root_user_without_privileges(
    compose: dict[str, Any],
) -> None:
    for name, svc in compose["services"].items():
        user = str(svc.get("user", ""))
        assert user, f"{name} has no user"
        assert user.split(":")[0] not in ("0", "root"), name
        assert svc.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in svc.get("security_opt", []), name
        assert svc.get("read_only") is True, name
        assert not svc.get("privileged"), name


def test_triton_has_room_in_dev_shm_for_the_python_backend(compose: dict[str, Any]) -> None:
    units = {"k": 2**10, "m": 2**20, "g": 2**30}
    for name in TRITON_SERVICES:
        size = str(compose["services"][name]["shm_size"]).lower().rstrip("b")
        size_bytes = int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)
        assert size_bytes >= 1 * 2**30, name


def test_server_services_have_health_checks(compose: dict[str, Any]) -> None:
    for name in ("frontend", *TRITON_SERVICES):
        check = compose["services"][name]["healthcheck"]
        assert check["test"][0] == "CMD" and "/opt/tts/bin/healthcheck.py" in check["test"]
        assert "start_period" in check and "timeout" in check
    # Triton's probe must run an inference: /v2/health/ready survives a crashed stub.
    for name in TRITON_SERVICES:
        assert "--inference" in compose["services"][name]["healthcheck"]["test"]
    assert "http://127.0.0.1:8080/healthz" in compose["services"]["frontend"]["healthcheck"]["test"]


def test_loadtest_profile_has_a_master_and_workers(compose: dict[str, Any]) -> None:
    assert {"locust-master", "locust-worker"} <= services_for(compose, "cpu", "loadtest")
    assert not {"locust-master", "locust-worker"} & services_for(compose, "cpu")
    master = compose["services"]["locust-master"]["command"]
    worker = compose["services"]["locust-worker"]["command"]
    assert "--master" in master and "--headless" in master
    assert master[master.index("--host") + 1] == "http://frontend:8080"
    assert worker[worker.index("--master-host") + 1] == "locust-master"
    assert int(compose["services"]["locust-worker"]["deploy"]["replicas"]) >= 1
    assert int(master[master.index("--expect-workers") + 1]) == int(
        compose["services"]["locust-worker"]["deploy"]["replicas"]
    )


def test_compose_and_kubernetes_run_the_same_commands(compose: dict[str, Any]) -> None:
    render_k8s = import_render_k8s()
    triton = compose["services"]["triton"]["command"]
    tier = triton[triton.index("--tier") + 1]
    assert triton == render_k8s.triton_command(tier)
    gpu = compose["services"]["triton-gpu"]["command"]
    assert gpu == render_k8s.triton_command(gpu[gpu.index("--tier") + 1])
    # Kubernetes adds the tier's admission limit; the rest is the compose command.
    frontend = compose["services"]["frontend"]["command"]
    k8s_frontend = render_k8s.frontend_command(7)
    assert k8s_frontend[: len(frontend)] == frontend
    assert k8s_frontend[len(frontend) :] == ["--max-active-requests", "7"]


def test_our_images_are_always_built_never_pulled_by_name(compose: dict[str, Any]) -> None:
    # An unqualified name like mandarin-tts/frontend would otherwise be pulled from a
    # public registry whenever the local image is missing.
    for name, svc in compose["services"].items():
        assert svc.get("build"), name
        assert svc.get("pull_policy") == "build", name


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("${A}", {}, ""),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A-d}", {"A": ""}, ""),
        ("${A-d}", {}, "d"),
        ("x$${A}y", {"A": "1"}, "x${A}y"),
        ("${A:?need A}", {"A": "v"}, "v"),
    ],
)
def test_interpolation_follows_compose_rules(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env) == expected


def test_required_variables_fail_when_unset_or_empty() -> None:
    with pytest.raises(MissingVariable):
        interpolate("${A:?need A}", {"A": ""})
    with pytest.raises(MissingVariable):
        interpolate("${A?need A}", {})
    assert interpolate("${A?need A}", {"A": ""}) == ""
