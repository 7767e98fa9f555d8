"""Shared loaders for the deployment tests (imported by name: pytest puts this folder on
sys.path): the compose file interpolated the way Compose does it, the generated Kubernetes
manifests, deploy/render_k8s.py and the scripts in docker/."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
K8S_DIR = REPO / "deploy" / "k8s"

if str(REPO / "deploy") not in sys.path:  # deploy/ holds scripts, not a package
    sys.path.insert(0, str(REPO / "deploy"))

import compose_env  # noqa: E402

MissingVariable = compose_env.MissingVariable
interpolate = compose_env.interpolate
compose_variables = compose_env.variables


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    return compose_env.load_compose({"TTS_ADMIN_KEY": "test-admin-key", **(env or {})})


def load_k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    docs = []
    for path in [K8S_DIR / "common.yaml", *sorted((K8S_DIR / "tiers").glob("*.yaml"))]:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path, doc))
    return docs


def import_render_k8s() -> Any:
    import render_k8s

    return render_k8s


def load_docker_script(name: str) -> Any:
    """Import docker/<name>.py under a unique module name (they are scripts, not a package)."""
    module_name = f"docker_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, REPO / "docker" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while decorating
    spec.loader.exec_module(module)
    return module
