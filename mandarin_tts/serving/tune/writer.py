"""Write a tuned tier back into tiers.toml by editing only the keys whose value changed.

Comments, ordering and every other tier stay byte-for-byte as they were. A changed value
goes into the model's own table `[tiers.T.models.M]` (replacing its line, or appended to
that table when the value came from `[tiers.T.defaults]`, which other models share).
Before anything is written the new text must parse, load as tiers, reproduce exactly the
wanted tier and the unchanged others, and render to a valid Triton repository.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any

from mandarin_tts.serving.render import tier_configs
from mandarin_tts.serving.tiers import ModelTier, Tier, parse_tiers

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY_LINE = re.compile(
    r"^(?P<lead>\s*(?P<key>[A-Za-z0-9_-]+)\s*=\s*)(?P<value>.*?)(?P<tail>\s*#.*)?$"
)


class TomlEditError(ValueError):
    """The file's layout is not one the writer can edit safely, or the result is wrong."""


def toml_value(value: Any) -> str:
    """TOML literal in this file's style (1_000 for large integers)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_d}" if abs(value) >= 1_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TomlEditError(f"no TOML literal for {value!r}")


def _table_name(header: str) -> tuple[str, ...]:
    return tuple(part.strip().strip('"') for part in header.split("."))


def _section(lines: list[str], table: tuple[str, ...]) -> tuple[int, int]:
    """(first body line, end) of a table: from after its header to the next header."""
    start = None
    for i, line in enumerate(lines):
        match = _HEADER.match(line)
        if not match:
            continue
        if start is not None:
            return start, i
        if _table_name(match.group(1)) == table:
            start = i + 1
    if start is None:
        raise TomlEditError(f"no table [{'.'.join(table)}] in the file")
    return start, len(lines)


def _set_key(lines: list[str], table: tuple[str, ...], key: str, value: Any) -> None:
    start, end = _section(lines, table)
    last_key = start - 1
    for i in range(start, end):
        match = _KEY_LINE.match(lines[i].rstrip("\n"))
        if not match:
            continue
        last_key = i
        if match.group("key") == key:
            newline = "\n" if lines[i].endswith("\n") else ""
            lines[i] = (
                match.group("lead") + toml_value(value) + (match.group("tail") or "") + newline
            )
            return
    lines.insert(last_key + 1, f"{key} = {toml_value(value)}\n")


def changed_values(old: ModelTier, new: ModelTier) -> dict[str, Any]:
    return {
        f.name: getattr(new, f.name)
        for f in fields(ModelTier)
        if getattr(old, f.name) != getattr(new, f.name)
    }


def edit_tier_text(text: str, current: Tier, wanted: Tier) -> str:
    """`text` with `current`'s model values changed to `wanted`'s, and nothing else."""
    if current.name != wanted.name:
        raise TomlEditError(f"tier names differ: {current.name} vs {wanted.name}")
    lines = text.splitlines(keepends=True)
    for model, new in wanted.models.items():
        for key, value in changed_values(current.models[model], new).items():
            _set_key(lines, ("tiers", wanted.name, "models", model), key, value)
    return "".join(lines)


def check_edit(old_text: str, new_text: str, wanted: Tier) -> None:
    """Raise unless `new_text` loads to `wanted` and leaves every other tier unchanged."""
    before = parse_tiers(tomllib.loads(old_text))
    after = parse_tiers(tomllib.loads(new_text))
    if set(before) != set(after):
        raise TomlEditError("the edit changed which tiers exist")
    if after[wanted.name].models != wanted.models:
        raise TomlEditError(f"tier {wanted.name} does not load back as the wanted values")
    for name, tier in before.items():
        if name != wanted.name and after[name] != tier:
            raise TomlEditError(f"the edit changed tier {name}")
    tier_configs(after[wanted.name])  # raises RenderError on an invalid repository


def write_tier(path: Path, wanted: Tier) -> bool:
    """Write `wanted`'s model values into the tiers file at `path`; False if nothing changed."""
    old_text = path.read_text("utf-8")
    current = parse_tiers(tomllib.loads(old_text))[wanted.name]
    new_text = edit_tier_text(old_text, current, wanted)
    if new_text == old_text:
        return False
    check_edit(old_text, new_text, wanted)
    # Write beside the file and rename, so a crash never leaves half a tiers.toml.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(new_text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
