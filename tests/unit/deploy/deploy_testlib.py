"""Shared loaders for the deployment tests (imported by name: pytest puts this folder on
sys.path): the compose file interpolated the way Compose does it, the generated Kubernetes
manifests, and deploy/render_k8s.py."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
K8S_DIR = REPO / "deploy" / "k8s"

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; `$$` escapes `$`.
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


class MissingVariable(KeyError):
    pass


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable substitution over a parsed YAML tree."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        current = env.get(name)
        unset_or_empty = not current if op and op.startswith(":") else current is None
        if op in ("-", ":-"):
            return arg if unset_or_empty else current or ""
        if op in ("?", ":?"):
            if unset_or_empty:
                raise MissingVariable(f"{name}: {arg}")
            return current or ""
        return current or ""

    return _VARIABLE.sub(substitute, value)


def compose_variables(raw_text: str) -> set[str]:
    return {m.group("name") for m in _VARIABLE.finditer(raw_text) if m.group("name")}


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    raw = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return interpolate(raw, {"TTS_ADMIN_KEY": "test-admin-key", **(env or {})})


def load_k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    docs = []
    for path in sorted([K8S_DIR / "common.yaml", *sorted((K8S_DIR / "tiers").glob("*.yaml"))]):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path, doc))
    return docs


def import_render_k8s() -> Any:
    deploy_dir = str(REPO / "deploy")
    if deploy_dir not in sys.path:
        sys.path.insert(0, deploy_dir)
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
