"""deploy/k8s: generated from deploy/render_k8s.py, valid against the Kubernetes OpenAPI
schemas (kubernetes-validate, strict: unknown fields fail), and hardened."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from deploy_helpers import K8S_DIR, import_render_k8s, load_compose, load_k8s_documents

from mandarin_tts.serving.tiers import load_tiers

# Oldest Kubernetes release the manifests must work on (HPA v2 and PDB v1 are GA there).
K8S_VERSIONS = ("1.27.0", "1.30.0")


@pytest.fixture(scope="module")
def documents() -> list[tuple[Path, dict[str, Any]]]:
    return load_k8s_documents()


@pytest.fixture(scope="module")
def render_k8s() -> Any:
    return import_render_k8s()


def by_kind(documents: list[tuple[Path, dict[str, Any]]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in documents if d["kind"] == kind}


def containers(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}


def tier_of(deployment: dict[str, Any]) -> str:
    return deployment["metadata"]["labels"]["mandarin-tts/tier"]


def test_committed_manifests_are_the_generators_output(render_k8s: Any) -> None:
    expected = render_k8s.render(render_k8s.ImageNames())
    for rel, text in expected.items():
        path = K8S_DIR / rel
        assert path.exists(), f"{rel} missing: run python deploy/render_k8s.py"
        assert path.read_text(encoding="utf-8") == text, (
            f"{rel} stale: run python deploy/render_k8s.py"
        )
    committed = {p.relative_to(K8S_DIR).as_posix() for p in K8S_DIR.rglob("*.yaml")}
    assert committed == set(expected), "files under deploy/k8s that the generator does not write"


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_manifest_validates_against_the_kubernetes_schema(
    documents: list[tuple[Path, dict[str, Any]]], version: str
) -> None:
    assert len(documents) >= 2 + 4 * len(load_tiers())
    for path, doc in documents:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{path.name} {doc['kind']}/{doc['metadata']['name']}: {error.message}")


def test_strict_validation_rejects_an_unknown_field(
    documents: list[tuple[Path, dict[str, Any]]],
) -> None:
    deployment = copy.deepcopy(next(iter(by_kind(documents, "Deployment").values())))
    deployment["spec"]["template"]["spec"]["containers"][0]["shmSize"] = "1Gi"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


def test_one_deployment_service_autoscaler_and_budget_per_tier(
    documents: list[tuple[Path, dict[str, Any]]],
) -> None:
    tiers = set(load_tiers())
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        objects = by_kind(documents, kind)
        assert {o["metadata"]["labels"]["mandarin-tts/tier"] for o in objects.values()} == tiers
    for name, hpa in by_kind(documents, "HorizontalPodAutoscaler").items():
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        assert name in by_kind(documents, "Deployment")


def test_pod_runs_triton_and_frontend_with_the_tiers_baked_image(
    documents: list[tuple[Path, dict[str, Any]]], render_k8s: Any
) -> None:
    for deployment in by_kind(documents, "Deployment").values():
        tier = tier_of(deployment)
        pod = containers(deployment)
        assert set(pod) == {"triton", "frontend"}
        assert pod["triton"]["image"].endswith(f"-{tier}")
        assert pod["triton"]["command"] == render_k8s.triton_command(tier)
        frontend = pod["frontend"]["command"]
        assert frontend[frontend.index("--triton-grpc") + 1] == "127.0.0.1:8001"


def test_triton_is_never_reachable_from_outside_the_pod(
    documents: list[tuple[Path, dict[str, Any]]],
) -> None:
    for deployment in by_kind(documents, "Deployment").values():
        pod = containers(deployment)
        assert "ports" not in pod["triton"]
        assert [p["containerPort"] for p in pod["frontend"]["ports"]] == [8080]
        assert not any("address" in a for a in pod["triton"]["command"])
        # kubelet's httpGet probes hit the pod IP, where Triton does not listen: exec only.
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert "exec" in pod["triton"][probe]
        assert "--inference" in pod["triton"]["livenessProbe"]["exec"]["command"]
    for service in by_kind(documents, "Service").values():
        assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
        assert service["spec"]["type"] == "ClusterIP"
    (policy,) = by_kind(documents, "NetworkPolicy").values()
    ports = [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]]
    assert ports == [8080]


def test_pods_run_as_non_root_with_a_read_only_root(
    documents: list[tuple[Path, dict[str, Any]]],
) -> None:
    for deployment in by_kind(documents, "Deployment").values():
        spec = deployment["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"]["drop"] == ["ALL"]


def test_admin_token_comes_from_a_secret(documents: list[tuple[Path, dict[str, Any]]]) -> None:
    for deployment in by_kind(documents, "Deployment").values():
        env = {e["name"]: e for e in containers(deployment)["triton"]["env"]}
        ref = env["MANDARIN_TTS_ADMIN_KEY"]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "mandarin-tts-admin" and not ref.get("optional")
        assert "value" not in env["MANDARIN_TTS_ADMIN_KEY"]


def test_dev_shm_is_a_memory_volume_sized_per_tier(
    documents: list[tuple[Path, dict[str, Any]]],
) -> None:
    for deployment in by_kind(documents, "Deployment").values():
        spec = deployment["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {
            m["mountPath"]: m["name"] for m in containers(deployment)["triton"]["volumeMounts"]
        }
        shm = volumes[mounts["/dev/shm"]]["emptyDir"]
        assert shm["medium"] == "Memory" and shm["sizeLimit"].endswith("Gi")


def test_gpu_tiers_request_a_gpu_on_the_right_nodes(
    documents: list[tuple[Path, dict[str, Any]]],
) -> None:
    tiers = load_tiers()
    for deployment in by_kind(documents, "Deployment").values():
        tier = tiers[tier_of(deployment)]
        spec = deployment["spec"]["template"]["spec"]
        limits = containers(deployment)["triton"]["resources"]["limits"]
        if tier.gpu:
            assert limits["nvidia.com/gpu"] == 1
            product = spec["nodeSelector"]["nvidia.com/gpu.product"]
            assert tier.gpu.lower() in product.lower().split("-")
        else:
            assert "nvidia.com/gpu" not in limits and "nodeSelector" not in spec
            # A CPU tier's pod gets the cores its thread layout was sized for.
            assert float(limits["cpu"]) >= min(tier.cores or 0, tier.cpu_threads) - 2


def test_autoscaler_uses_the_in_flight_metric_that_the_adapter_serves(
    documents: list[tuple[Path, dict[str, Any]]], render_k8s: Any
) -> None:
    adapter = yaml.safe_load(
        (K8S_DIR / "monitoring" / "prometheus-adapter-values.yaml").read_text()
    )
    served = {rule["name"]["as"] for rule in adapter["rules"]["custom"]}
    for hpa in by_kind(documents, "HorizontalPodAutoscaler").values():
        (metric,) = hpa["spec"]["metrics"]
        assert metric["type"] == "Pods" and metric["pods"]["metric"]["name"] in served
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        tier = hpa["metadata"]["labels"]["mandarin-tts/tier"]
        res = render_k8s.TIER_RESOURCES[tier]
        # Scale out before the frontend's admission limit starts refusing requests.
        assert int(metric["pods"]["target"]["averageValue"]) < res.max_active


def test_the_hpa_metric_is_one_the_frontend_exports(render_k8s: Any) -> None:
    metrics_module = pytest.importorskip("frontend.metrics")
    exported = metrics_module.FrontendMetrics().render().decode()
    assert f"\n{render_k8s.HPA_METRIC} " in exported or exported.startswith(render_k8s.HPA_METRIC)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert all((K8S_DIR / r).exists() for r in listed)
    on_disk = {"common.yaml", *(f"tiers/{p.name}" for p in (K8S_DIR / "tiers").glob("*.yaml"))}
    assert listed == on_disk


def test_containers_do_not_share_scratch_space(
    documents: list[tuple[Path, dict[str, Any]]],
) -> None:
    """The launcher writes the admin key under Triton's /tmp: the frontend must not see it."""
    for deployment in by_kind(documents, "Deployment").values():
        pod = containers(deployment)
        triton = {m["name"] for m in pod["triton"]["volumeMounts"]}
        frontend = {m["name"] for m in pod["frontend"]["volumeMounts"]}
        assert not triton & frontend


def trt_cache_path_in_the_image() -> str:
    """Where triton_glue puts TensorRT engines when MANDARIN_TTS_CACHE=/opt/tts/cache."""
    code = "from mandarin_tts.voices.registry import models_dir; print(models_dir() / 'trt_cache')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "MANDARIN_TTS_CACHE": "/opt/tts/cache"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_gpu_tiers_have_a_writable_tensorrt_engine_cache(
    documents: list[tuple[Path, dict[str, Any]]], render_k8s: Any
) -> None:
    path = trt_cache_path_in_the_image()
    assert path == render_k8s.TRT_CACHE_PATH
    tiers = load_tiers()
    for deployment in by_kind(documents, "Deployment").values():
        mounts = {m["mountPath"] for m in containers(deployment)["triton"]["volumeMounts"]}
        assert (path in mounts) == bool(tiers[tier_of(deployment)].gpu)
    compose = load_compose()
    gpu_mounts = [v.split(":")[1] for v in compose["services"]["triton-gpu"]["volumes"]]
    assert path in gpu_mounts
    dockerfile_text = (K8S_DIR.parents[1] / "docker" / "Dockerfile").read_text()
    assert f"install -d -o 10001 -g 10001 {path}" in dockerfile_text
