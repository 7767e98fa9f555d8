"""Export the vocoder ONNX: mel bridge + HiFi-GAN, dynamic batch and time axes.

Needs only the committed bridge parameters and the pretrained TorchScript weights.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import onnx
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
from mandarin_tts.vocoder.bridge import BRIDGE_PARAMS, MelBridge
from mandarin_tts.vocoder.bridged import BridgedVocoder
from mandarin_tts.vocoder.polyphase import PolyphaseUpsample
from mandarin_tts.vocoder.torchscript_weights import load_generator

OPSET = 17


def build_vocoder_module(
    bridge_params: Path = BRIDGE_PARAMS,
    torchscript: Path | None = None,
    pad_masks: bool = True,
    polyphase: bool = False,
) -> BridgedVocoder:
    """`polyphase`: the upsampling ConvTranspose layers become equivalent plain convs
    (polyphase.py), which onnxruntime can run in int8."""
    generator = load_generator(torchscript)
    if polyphase:
        generator.ups = nn.ModuleList(
            PolyphaseUpsample.from_conv_transpose(layer)  # type: ignore[arg-type]
            for layer in generator.ups
        )
    bridge = MelBridge.load_params(bridge_params)
    return BridgedVocoder(bridge, generator, pad_masks).eval()


def export_onnx(module: BridgedVocoder, path: Path) -> None:
    # Two items of different lengths, so no axis is traced as a constant.
    mel = torch.zeros(2, 24, N_MELS)
    lengths = torch.tensor([24, 17], dtype=torch.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            module,
            (mel, lengths),
            str(path),
            input_names=[VOC_IN_MEL, VOC_IN_MEL_LENGTHS],
            output_names=[VOC_OUT_AUDIO, VOC_OUT_AUDIO_LENGTHS],
            dynamic_axes={
                VOC_IN_MEL: {0: "batch", 1: "frames"},
                VOC_IN_MEL_LENGTHS: {0: "batch"},
                VOC_OUT_AUDIO: {0: "batch", 1: "samples"},
                VOC_OUT_AUDIO_LENGTHS: {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, {ONNX_META_PAD_SAFE: str(module.pad_masks).lower()})
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def build_vocoder_onnx(path: Path, pad_masks: bool = True, polyphase: bool = False) -> None:
    """Write the vocoder ONNX to `path` (atomically: a temp file renamed into place)."""
    module = build_vocoder_module(pad_masks=pad_masks, polyphase=polyphase)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        export_onnx(module, staged)
        staged.replace(path)
