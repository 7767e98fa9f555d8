"""Reading the files of a voice folder (KAN-TTS/ModelScope configs and checkpoints, our
manifests) in one way: each reader raises its caller's own error class, and the message
starts with the path, so a user knows which file of which voice to fix."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

_CHECKPOINT = re.compile(r"^checkpoint_(\d+)\.pth$")


def read_document(path: Path, error: Callable[[str], Exception], what: str) -> Any:
    """The parsed JSON (`*.json`) or YAML (anything else) document at `path`; `error(message)`
    where it is missing or unreadable, the message naming `what` the file should hold."""
    parse: Callable[[str], Any]
    bad: tuple[type[Exception], ...]
    if path.suffix == ".json":
        kind, parse, bad = "JSON", json.loads, (json.JSONDecodeError,)
    else:
        import yaml  # here so that serving code reading JSON manifests needs no PyYAML

        # KAN-TTS dumps with yaml.Dumper, whose plain output safe_load reads.
        kind, parse, bad = "YAML", yaml.safe_load, (yaml.YAMLError,)
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError, *bad) as exc:
        raise error(f"{path}: {what} is unreadable {kind} ({exc})") from None


def newest_checkpoint(ckpt_dir: Path, error: Callable[[str], Exception]) -> Path:
    """The `checkpoint_N.pth` with the largest N in `ckpt_dir` (what KAN-TTS's voice.py and
    ModelScope load: the newest training step wins)."""
    if not ckpt_dir.is_dir():
        raise error(f"{ckpt_dir}: checkpoint folder not found")
    found = [
        (int(match.group(1)), entry)
        for entry in ckpt_dir.iterdir()
        if (match := _CHECKPOINT.match(entry.name)) and entry.is_file()
    ]
    if not found:
        raise error(f"{ckpt_dir}: no checkpoint_N.pth file in the folder")
    return max(found)[1]


def kantts_model_params(
    document: Any, model_type: str, model: str, error: Callable[[str], Exception]
) -> dict[str, Any]:
    """`Model.<model>.params` of a KAN-TTS config document whose `model_type` (KAN-TTS's
    default when absent) must be `model_type`; `error(message)` says what is wrong."""
    if not isinstance(document, Mapping):
        raise error(f"not a YAML mapping (expected a KAN-TTS {model_type} config.yaml)")
    found = document.get("model_type", model_type)
    if found != model_type:
        raise error(f"model_type {found!r} is not supported (only {model_type!r})")
    models = document.get("Model")
    block = models.get(model) if isinstance(models, Mapping) else None
    params = block.get("params") if isinstance(block, Mapping) else None
    if not isinstance(params, Mapping):
        raise error(f"no Model.{model}.params section: not a KAN-TTS {model_type} config")
    return dict(params)
