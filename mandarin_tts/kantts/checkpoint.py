"""Reading KAN-TTS checkpoints (`torch.save` pickles) without running arbitrary code.

Training writes `{"model": ..., "optimizer": ..., "scheduler": ..., "steps": N}`; the
vocoder's "model" is `{"generator": state_dict, "discriminator": {...}}`, the acoustic
model's is its state dict. We load with `weights_only=True` (no code execution) and allow
the two container types KAN-TTS's schedulers pickle (MultiStepLR keeps a Counter).
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from mandarin_tts.kantts.errors import KanttsCheckpointError

_SAFE_GLOBALS: list[Any] = [collections.Counter, collections.OrderedDict, collections.defaultdict]
_MAX_LISTED = 8  # names shown per kind of problem; the rest are counted


def read_checkpoint(path: Path) -> Mapping[str, Any]:
    """The whole checkpoint dict on CPU; clear errors for missing or non-checkpoint files."""
    path = Path(path)
    if not path.is_file():
        raise KanttsCheckpointError(f"{path}: checkpoint file not found")
    try:
        with torch.serialization.safe_globals(_SAFE_GLOBALS):
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean the same here
        raise KanttsCheckpointError(
            f"{path}: not a readable torch checkpoint ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})"
        ) from None
    if not isinstance(data, Mapping):
        raise KanttsCheckpointError(
            f"{path}: a KAN-TTS checkpoint is a dict with a 'model' entry, got {type(data).__name__}"
        )
    return data


def state_dict_at(data: Mapping[str, Any], keys: tuple[str, ...], path: Path) -> dict[str, Any]:
    """data[keys[0]][keys[1]]... as a tensor dict, naming the missing level on error."""
    node: Any = data
    walked: list[str] = []
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            where = "".join(f"[{k!r}]" for k in walked) or "the top level"
            have = sorted(str(k) for k in node) if isinstance(node, Mapping) else []
            raise KanttsCheckpointError(
                f"{path}: no {key!r} entry at {where} (has: {', '.join(have[:8]) or 'nothing'}); "
                f"expected a KAN-TTS checkpoint with {''.join(f'[{k!r}]' for k in keys)}"
            )
        node = node[key]
        walked.append(key)
    if not isinstance(node, Mapping) or not all(isinstance(v, torch.Tensor) for v in node.values()):
        raise KanttsCheckpointError(
            f"{path}: {''.join(f'[{k!r}]' for k in keys)} is not a state dict of tensors"
        )
    return dict(node)


def state_dict_problems(
    expected: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]
) -> list[str]:
    """Why `state` would not load strictly where `expected` (a model's state_dict()) does:
    missing keys, unexpected keys, other shapes, each counted and listed. Empty: it fits.

    KAN-TTS loads with strict=False, which leaves mismatched weights silently random; we
    name them instead."""
    mismatched = [
        f"{k} {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in sorted(expected.items())
        if k in state and state[k].shape != v.shape
    ]
    kinds = (
        ("missing keys", sorted(set(expected) - set(state))),
        ("unexpected keys", sorted(set(state) - set(expected))),
        ("other shapes", mismatched),
    )
    return [f"{kind} ({len(names)}): {_listed(names)}" for kind, names in kinds if names]


def _listed(names: list[str]) -> str:
    more = f" ... (+{len(names) - _MAX_LISTED} more)" if len(names) > _MAX_LISTED else ""
    return ", ".join(names[:_MAX_LISTED]) + more


def fold_weight_norm(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace weight-norm pairs by the plain weight they stand for.

    KAN-TTS wraps every conv in `torch.nn.utils.weight_norm` (dim 0), so its checkpoints
    hold `X.weight_g` (magnitude per output slice of dim 0) and `X.weight_v` (direction);
    the weight is g * v / ||v|| with the norm over all other dims, which is what KAN-TTS's
    `remove_weight_norm()` computes before inference. Newer torch parametrizations
    (`X.parametrizations.weight.original0/1`) are folded the same way.
    """
    out: dict[str, torch.Tensor] = {}
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        for suffix, part in (
            (".weight_g", "g"),
            (".weight_v", "v"),
            (".parametrizations.weight.original0", "g"),
            (".parametrizations.weight.original1", "v"),
        ):
            if key.endswith(suffix):
                pairs.setdefault(key[: -len(suffix)], {})[part] = value
                break
        else:
            out[key] = value
    for prefix, pair in pairs.items():
        if set(pair) != {"g", "v"}:
            # Half a pair: keep the raw key so the strict key check reports it.
            for part, value in pair.items():
                out[f"{prefix}.weight_{part}"] = value
            continue
        g, v = pair["g"].float(), pair["v"].float()
        dims = tuple(range(1, v.dim()))
        norm = v.pow(2).sum(dim=dims, keepdim=True).sqrt()
        out[f"{prefix}.weight"] = v * (g / norm)
    return out
