"""Read docker-compose.yml the way Compose does: YAML (with merge keys) plus variable
interpolation (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
`${VAR?error}`, `$$`). Used by the deployment tests and deploy/smoke_local.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"

_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


class MissingVariable(KeyError):
    """A `${VAR:?message}` variable is unset (or empty)."""


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
        # With a colon, an empty value counts as unset.
        missing = not current if op and op.startswith(":") else current is None
        if op in ("-", ":-"):
            return arg if missing else current or ""
        if op in ("?", ":?"):
            if missing:
                raise MissingVariable(f"{name}: {arg}")
            return current or ""
        return current or ""

    return _VARIABLE.sub(substitute, value)


def variables(raw_text: str) -> set[str]:
    return {m.group("name") for m in _VARIABLE.finditer(raw_text) if m.group("name")}


def load_compose(env: dict[str, str], path: Path = COMPOSE_FILE) -> dict[str, Any]:
    return interpolate(yaml.safe_load(path.read_text(encoding="utf-8")), env)
