"""Write the Kubernetes manifests in deploy/k8s/ from the hardware tiers.

One Deployment per tier (Triton and the frontend in one pod; the tier's rendered model
repository is baked into the Triton image), its Service, HorizontalPodAutoscaler and
PodDisruptionBudget, plus the shared ServiceAccount, NetworkPolicy and kustomization.

    python deploy/render_k8s.py [--registry REG] [--version V] [--out deploy/k8s]

The committed files are this script's output; tests/unit/deploy fails when they drift.
The tier names come from mandarin_tts/serving/tiers.toml; the resources per tier below.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO_ROOT))

from mandarin_tts.serving.tiers import load_tiers  # noqa: E402

APP = "mandarin-tts"
ADMIN_SECRET = "mandarin-tts-admin"  # kubectl create secret generic ... --from-literal=token=...
ADMIN_SECRET_KEY = "token"
HPA_METRIC = "tts_frontend_active_requests"  # frontend gauge: requests being served
UID = 10001
FRONTEND_PORT = 8080
TRITON_HTTP, TRITON_GRPC, TRITON_METRICS = 8000, 8001, 8002
HEALTHCHECK = "/opt/tts/bin/healthcheck.py"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"  # set by NVIDIA GPU feature discovery
# Where onnxruntime's TensorRT provider caches engines (models dir of the image + trt_cache).
TRT_CACHE_PATH = "/opt/tts/cache/models/trt_cache"


@dataclass(frozen=True)
class TierResources:
    """What one pod of a tier asks of a node, and how the tier scales out."""

    triton_cpu: str
    triton_memory: str
    shm: str
    frontend_cpu: str
    frontend_memory: str
    min_replicas: int
    max_replicas: int
    # HPA target: average requests in flight per pod; admission refuses above max_active.
    target_active: int
    max_active: int
    gpu_product: str | None = None  # GPU feature discovery's product label value


# Starting points, to be calibrated with loadtest/ on the real hardware (docs/deployment.md).
TIER_RESOURCES: dict[str, TierResources] = {
    "cpu-2": TierResources("2", "4Gi", "1Gi", "500m", "512Mi", 1, 4, 2, 4),
    "cpu-16": TierResources("15", "16Gi", "4Gi", "1", "1Gi", 1, 8, 8, 16),
    "cpu-64": TierResources("62", "48Gi", "8Gi", "2", "2Gi", 1, 8, 24, 48),
    "gpu-t4": TierResources("7", "24Gi", "4Gi", "1", "1Gi", 1, 8, 16, 32, "Tesla-T4"),
    "gpu-l4": TierResources("14", "32Gi", "8Gi", "1", "1Gi", 1, 8, 24, 48, "NVIDIA-L4"),
    "gpu-a100": TierResources(
        "28", "64Gi", "8Gi", "2", "2Gi", 1, 8, 48, 96, "NVIDIA-A100-SXM4-80GB"
    ),
    "gpu-h100": TierResources(
        "28", "96Gi", "8Gi", "2", "2Gi", 1, 8, 64, 128, "NVIDIA-H100-80GB-HBM3"
    ),
}


@dataclass(frozen=True)
class ImageNames:
    registry: str = "registry.example.com/mandarin-tts"
    version: str = "0.1.0"

    def triton(self, tier: str) -> str:
        return f"{self.registry}/triton:{self.version}-{tier}"

    def frontend(self) -> str:
        return f"{self.registry}/frontend:{self.version}"


def labels(tier: str | None = None, component: str | None = None) -> dict[str, str]:
    out = {"app.kubernetes.io/name": APP, "app.kubernetes.io/part-of": APP}
    if tier:
        out["mandarin-tts/tier"] = tier
    if component:
        out["app.kubernetes.io/component"] = component
    return out


def selector(tier: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": APP, "mandarin-tts/tier": tier}


def triton_command(tier: str) -> list[str]:
    """The launcher, exactly as docker-compose.yml runs it (tests compare the two).

    `--no-build`: the image carries the models; it has no torch to rebuild them.
    The launcher serves the repository baked in at MANDARIN_TTS_MODEL_REPOSITORY."""
    return [
        "python3", "-m", "mandarin_tts.serving.launcher", "--tier", tier, "--no-frontend",
        "--no-build",
        "--http-port", str(TRITON_HTTP), "--grpc-port", str(TRITON_GRPC),
        "--metrics-port", str(TRITON_METRICS),
    ]  # fmt: skip


def frontend_command(max_active: int) -> list[str]:
    return [
        "python", "-m", "frontend", "--host", "0.0.0.0", "--port", str(FRONTEND_PORT),
        "--triton-grpc", f"127.0.0.1:{TRITON_GRPC}",
        "--max-active-requests", str(max_active),
    ]  # fmt: skip


def exec_probe(args: list[str], period: int, timeout: int, failures: int) -> dict[str, Any]:
    return {
        "exec": {"command": ["python3", HEALTHCHECK, *args]},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


def container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def sleep_hook(seconds: int, python: str) -> dict[str, Any]:
    return {"exec": {"command": [python, "-c", f"import time; time.sleep({seconds})"]}}


def triton_container(tier: str, res: TierResources, images: ImageNames) -> dict[str, Any]:
    limits: dict[str, Any] = {"cpu": res.triton_cpu, "memory": res.triton_memory}
    if res.gpu_product:
        limits["nvidia.com/gpu"] = 1
    ready = ["triton", "--port", str(TRITON_HTTP)]
    mounts = [
        {"name": "dshm", "mountPath": "/dev/shm"},
        {"name": "triton-tmp", "mountPath": "/tmp"},
    ]
    if res.gpu_product:
        mounts.append({"name": "trt-cache", "mountPath": TRT_CACHE_PATH})
    return {
        "name": "triton",
        "image": images.triton(tier),
        "command": triton_command(tier),
        "env": [
            {
                "name": "MANDARIN_TTS_ADMIN_KEY",
                "valueFrom": {"secretKeyRef": {"name": ADMIN_SECRET, "key": ADMIN_SECRET_KEY}},
            },
            {"name": "TMPDIR", "value": "/tmp"},
        ],
        # Guaranteed QoS: requests == limits, so the tier's thread counts hold.
        "resources": {"requests": dict(limits), "limits": limits},
        "securityContext": container_security(),
        "volumeMounts": mounts,
        # Model loading (and TensorRT engine builds on GPU tiers) may take minutes.
        "startupProbe": exec_probe(ready, period=10, timeout=5, failures=90),
        "readinessProbe": exec_probe(ready, period=10, timeout=5, failures=3),
        # A crashed Python stub leaves /v2/health/ready at 200: liveness runs a tiny
        # inference, with room for a busy queue before the container is restarted.
        "livenessProbe": exec_probe(
            [*ready, "--inference", "--timeout", "25"], period=30, timeout=30, failures=4
        ),
        # Stay up while the frontend drains, then Triton finishes what is in flight.
        "lifecycle": {"preStop": sleep_hook(30, "python3")},
    }


def frontend_container(res: TierResources, images: ImageNames) -> dict[str, Any]:
    resources = {"cpu": res.frontend_cpu, "memory": res.frontend_memory}
    return {
        "name": "frontend",
        "image": images.frontend(),
        "command": frontend_command(res.max_active),
        "ports": [{"name": "http", "containerPort": FRONTEND_PORT, "protocol": "TCP"}],
        "resources": {"requests": dict(resources), "limits": resources},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "frontend-tmp", "mountPath": "/tmp"}],
        # /healthz runs a real synthesis (cached a few seconds): ready == can speak.
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": "http"},
            "periodSeconds": 10,
            "timeoutSeconds": 12,
            "failureThreshold": 3,
        },
        # Liveness must not depend on Triton, or a slow model would restart the gateway.
        "livenessProbe": {
            "tcpSocket": {"port": "http"},
            "periodSeconds": 20,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
        # Let the endpoints controller take the pod out of the Service before SIGTERM.
        "lifecycle": {"preStop": sleep_hook(10, "python")},
    }


def deployment(tier: str, res: TierResources, images: ImageNames) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {
        "serviceAccountName": APP,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 120,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector(tier)},
            }
        ],
        "containers": [triton_container(tier, res, images), frontend_container(res, images)],
        "volumes": [
            # The Python backend passes tensors through /dev/shm.
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": res.shm}},
            # One scratch volume per container: the launcher keeps the admin key in its own.
            {"name": "triton-tmp", "emptyDir": {"sizeLimit": "2Gi"}},
            {"name": "frontend-tmp", "emptyDir": {"sizeLimit": "256Mi"}},
        ],
    }
    if res.gpu_product:
        # Per pod: engines are rebuilt when a pod starts (use a PVC to keep them).
        pod_spec["volumes"].append({"name": "trt-cache", "emptyDir": {"sizeLimit": "4Gi"}})
        pod_spec["nodeSelector"] = {GPU_PRODUCT_LABEL: res.gpu_product}
        pod_spec["tolerations"] = [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{APP}-{tier}", "labels": labels(tier, "server")},
        "spec": {
            "replicas": res.min_replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector(tier)},
            # Never drop below the current capacity during a rollout.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {
                    "labels": labels(tier, "server"),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(FRONTEND_PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": pod_spec,
            },
        },
    }


def service(tier: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{APP}-{tier}", "labels": labels(tier, "server")},
        "spec": {
            "type": "ClusterIP",
            "selector": selector(tier),
            # Only the frontend: Triton's ports are on the pod's loopback and not declared.
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def autoscaler(tier: str, res: TierResources) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": f"{APP}-{tier}", "labels": labels(tier, "server")},
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": f"{APP}-{tier}",
            },
            "minReplicas": res.min_replicas,
            "maxReplicas": res.max_replicas,
            # Served through prometheus-adapter (deploy/k8s/monitoring/).
            "metrics": [
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": HPA_METRIC},
                        "target": {"type": "AverageValue", "averageValue": str(res.target_active)},
                    },
                }
            ],
            "behavior": {
                "scaleUp": {
                    "stabilizationWindowSeconds": 0,
                    "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}],
                },
                # Slow to shrink: a new pod costs minutes of model loading.
                "scaleDown": {
                    "stabilizationWindowSeconds": 600,
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}],
                },
            },
        },
    }


def disruption_budget(tier: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"{APP}-{tier}", "labels": labels(tier, "server")},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(tier)}},
    }


def common_objects() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": APP, "labels": labels()},
            "automountServiceAccountToken": False,
        },
        {
            # Only the frontend port is reachable; Triton never listens beyond loopback.
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": APP, "labels": labels()},
            "spec": {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": APP}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"protocol": "TCP", "port": FRONTEND_PORT}]}],
                # Model files are baked in: the pods need no egress but DNS.
                "egress": [
                    {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
                ],
            },
        },
    ]


def adapter_values() -> dict[str, Any]:
    """prometheus-adapter Helm values that expose the HPA metric as a Pods metric."""
    return {
        "rules": {
            "default": False,
            "custom": [
                {
                    "seriesQuery": f'{HPA_METRIC}{{namespace!="",pod!=""}}',
                    "resources": {
                        "overrides": {
                            "namespace": {"resource": "namespace"},
                            "pod": {"resource": "pod"},
                        }
                    },
                    "name": {"matches": f"^{HPA_METRIC}$", "as": HPA_METRIC},
                    # Average over 1 min so one burst does not scale out on its own.
                    "metricsQuery": "avg_over_time(<<.Series>>{<<.LabelMatchers>>}[1m])",
                }
            ],
        }
    }


HEADER = "# Generated by deploy/render_k8s.py; edit the script, not this file.\n"


def dump(objects: list[dict[str, Any]]) -> str:
    docs = [yaml.safe_dump(o, sort_keys=False, default_flow_style=False) for o in objects]
    return HEADER + "---\n" + "---\n".join(docs)


def render(images: ImageNames) -> dict[str, str]:
    """Relative path -> file content for everything under deploy/k8s/."""
    tiers = load_tiers()
    missing = set(tiers) ^ set(TIER_RESOURCES)
    if missing:
        raise SystemExit(f"tiers.toml and TIER_RESOURCES disagree on: {sorted(missing)}")
    files = {"common.yaml": dump(common_objects())}
    for tier, res in TIER_RESOURCES.items():
        objects = [deployment(tier, res, images), service(tier), autoscaler(tier, res)]
        files[f"tiers/{tier}.yaml"] = dump([*objects, disruption_budget(tier)])
    files["kustomization.yaml"] = HEADER + yaml.safe_dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["common.yaml", *(f"tiers/{t}.yaml" for t in TIER_RESOURCES)],
        },
        sort_keys=False,
    )
    files["monitoring/prometheus-adapter-values.yaml"] = HEADER + yaml.safe_dump(
        adapter_values(), sort_keys=False
    )
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", default=ImageNames.registry)
    parser.add_argument("--version", default=ImageNames.version)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "deploy" / "k8s")
    args = parser.parse_args(argv)
    for rel, text in render(ImageNames(args.registry, args.version)).items():
        path = args.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
