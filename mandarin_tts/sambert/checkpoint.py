"""Find and load a KAN-TTS Sambert checkpoint (`am/ckpt/checkpoint_N.pth`) into our model.

KAN-TTS's trainer saves `{"optimizer", "scheduler", "steps", "model": state_dict}` and ModelScope
loads `["model"]` with strict=False, which silently leaves mismatched weights random; we check
the keys and shapes and raise `SambertCheckpointError` naming the file instead.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mandarin_tts.kantts.checkpoint import state_dict_problems
from mandarin_tts.sambert.config import SambertConfig, load_config
from mandarin_tts.sambert.model import SambertModel
from mandarin_tts.voice_files import newest_checkpoint

_MAX_LISTED = 8  # top-level keys shown for a file that is not a KAN-TTS checkpoint


class SambertCheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, or does not fit the configured model."""


def read_state_dict(path: str | Path, allow_pickle: bool = False) -> dict[str, torch.Tensor]:
    """The `["model"]` state dict of a KAN-TTS checkpoint, loaded on CPU.

    Loaded with weights_only=True (tensors and plain containers only; no code runs), which
    reads KAN-TTS's trainer checkpoints (Adam + NoamLR state). allow_pickle=True permits a
    full unpickle for checkpoints that need more: only for voice folders you trust.
    """
    path = Path(path)
    if not path.is_file():
        raise SambertCheckpointError(f"{path}: no such checkpoint file")
    try:
        data: Any = torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as err:
        if not zipfile.is_zipfile(path):  # not torch.save's format at all (garbage, truncated)
            raise SambertCheckpointError(f"{path}: cannot read the checkpoint ({err})") from err
        raise SambertCheckpointError(
            f"{path}: holds objects beyond tensors and plain containers; load it with "
            f"allow_pickle=True only if you trust the file ({err})"
        ) from err
    except (OSError, RuntimeError, EOFError, zipfile.BadZipFile) as err:
        raise SambertCheckpointError(f"{path}: cannot read the checkpoint ({err})") from err
    if not isinstance(data, dict) or "model" not in data:
        keys = sorted(data)[:_MAX_LISTED] if isinstance(data, dict) else type(data).__name__
        raise SambertCheckpointError(
            f"{path}: not a KAN-TTS checkpoint (expected a dict with a 'model' state dict, got {keys})"
        )
    state = data["model"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise SambertCheckpointError(f"{path}: 'model' is not a state dict of tensors")
    return state


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Raise SambertCheckpointError unless `state` has exactly `model`'s keys and shapes."""
    problems = state_dict_problems(model.state_dict(), state)
    if problems:
        raise SambertCheckpointError(
            f"{source}: does not fit the configured Sambert ({'; '.join(problems)})"
        )


def load_model(
    config: SambertConfig, checkpoint: str | Path, allow_pickle: bool = False
) -> SambertModel:
    """Our SambertModel with the checkpoint's weights, checked strictly, eval mode."""
    state = read_state_dict(checkpoint, allow_pickle)
    model = SambertModel(config)
    check_state_dict(model, state, str(checkpoint))
    model.load_state_dict(state, strict=True)
    model.refresh_position_table()
    return model.eval()


def load_voice_am(
    voice_dir: str | Path, allow_pickle: bool = False
) -> tuple[SambertConfig, SambertModel, Path]:
    """A ModelScope/KAN-TTS voice folder's acoustic model: am/config.yaml + newest am/ckpt/."""
    am_dir = Path(voice_dir) / "am"
    config = load_config(am_dir / "config.yaml")
    checkpoint = newest_checkpoint(am_dir / "ckpt", SambertCheckpointError)
    return config, load_model(config, checkpoint, allow_pickle), checkpoint
