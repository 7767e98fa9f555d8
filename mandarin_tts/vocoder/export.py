"""Export the vocoder ONNX: mel bridge + HiFi-GAN, dynamic batch and time axes.

Needs only the committed bridge parameters and the pretrained TorchScript weights.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from mandarin_tts.contract import (
    N_MELS,
    ONNX_META_PAD_SAFE,
    VOC_IN_MEL,
    VOC_IN_MEL_LENGTHS,
    VOC_OUT_AUDIO,
    VOC_OUT_AUDIO_LENGTHS,
)
from mandarin_tts.onnx_export import GraphIO, export_checked_onnx
from mandarin_tts.vocoder.bridge import BRIDGE_PARAMS, MelBridge
from mandarin_tts.vocoder.bridged import BridgedVocoder
from mandarin_tts.vocoder.torchscript_weights import load_generator

OPSET = 17


def build_vocoder_module(
    bridge_params: Path = BRIDGE_PARAMS,
    torchscript: Path | None = None,
    pad_masks: bool = True,
) -> BridgedVocoder:
    generator = load_generator(torchscript)
    bridge = MelBridge.load_params(bridge_params)
    return BridgedVocoder(bridge, generator, pad_masks).eval()


# The vocoder interface every vocoder ONNX serves (the bundled one, imported KAN-TTS voices).
VOCODER_IO = GraphIO(
    (VOC_IN_MEL, VOC_IN_MEL_LENGTHS),
    (VOC_OUT_AUDIO, VOC_OUT_AUDIO_LENGTHS),
    {
        VOC_IN_MEL: {0: "batch", 1: "frames"},
        VOC_IN_MEL_LENGTHS: {0: "batch"},
        VOC_OUT_AUDIO: {0: "batch", 1: "samples"},
        VOC_OUT_AUDIO_LENGTHS: {0: "batch"},
    },
)


def export_vocoder_interface(
    module: nn.Module,
    example_lengths: tuple[int, int],
    n_mels: int,
    path: Path,
    metadata: dict[str, str],
    ignore_warnings: tuple[str, ...] = (),
) -> Path:
    """Trace `module` (mel [B, T, n_mels], mel_lengths [B]) -> (audio, audio_lengths) to `path`.

    Traced on two items of different lengths, so neither batch nor time is a constant."""
    mel = torch.zeros(2, max(example_lengths), n_mels)
    lengths = torch.tensor(example_lengths, dtype=torch.int64)
    return export_checked_onnx(
        module,
        (mel, lengths),
        path,
        VOCODER_IO,
        OPSET,
        metadata=metadata,
        ignore_warnings=ignore_warnings,
    )


def export_onnx(module: BridgedVocoder, path: Path) -> None:
    """Write the bridged vocoder to `path` (atomically)."""
    pad_safe = {ONNX_META_PAD_SAFE: str(module.pad_masks).lower()}
    export_vocoder_interface(module, (24, 17), N_MELS, path, pad_safe)


def build_vocoder_onnx(path: Path, pad_masks: bool = True) -> None:
    """Write the vocoder ONNX to `path` (atomically: a temp file renamed into place)."""
    export_onnx(build_vocoder_module(pad_masks=pad_masks), path)
