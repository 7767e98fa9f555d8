"""Glue between Triton's Python backend and the steps: build a step from the `args` Triton
passes to `initialize`. Kept free of `triton_python_backend_utils` so it is importable (and
tested) outside the server.

A step model's config names its voice and its step (`voice`, `step` parameters); the
voice's manifest says which family and files run it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from mandarin_tts import contract as c
from mandarin_tts.pipeline.voice_pipeline import StageOptions, load_acoustic, load_vocoder
from mandarin_tts.serving.int8_support import servable_onnx_file
from mandarin_tts.serving.ort_session import OrtSettings
from mandarin_tts.serving.peer_activity import PeerActivity, peers_directory
from mandarin_tts.serving.steps import AcousticStep, TextFrontendStep, VocoderStep
from mandarin_tts.voices.registry import BUNDLED_VOICE, load_voice

Step = TextFrontendStep | AcousticStep | VocoderStep


@dataclass
class LoadedStep:
    step: Step
    input_names: tuple[str, ...]


def model_parameters(model_config: dict[str, Any]) -> dict[str, str]:
    return {k: v.get("string_value", "") for k, v in model_config.get("parameters", {}).items()}


def ort_settings(params: dict[str, str], device_id: int) -> OrtSettings:
    return OrtSettings(
        provider=params.get("provider", "cpu"),
        fp16=params.get("fp16", "false").lower() == "true",
        intra_op_threads=int(params.get("intra_op_threads", "1")),
        inter_op_threads=int(params.get("inter_op_threads", "1")),
        device_id=device_id,
    )


def stage_options(params: dict[str, str], args: dict[str, str], step: str) -> StageOptions:
    onnx_file = params.get("onnx_file") or None
    if onnx_file:
        onnx_file, warning = servable_onnx_file(onnx_file)
        if warning:
            print(f"WARNING {step}: {warning}", file=sys.stderr, flush=True)
    device_id = int(args.get("model_instance_device_id", "0") or 0)
    busy_threads = int(params.get("busy_intra_op_threads", "0"))
    peers = None
    if busy_threads and args.get("model_repository") and args.get("model_instance_name"):
        peers = PeerActivity(peers_directory(args["model_repository"]), args["model_instance_name"])
    return StageOptions(
        settings=ort_settings(params, device_id),
        onnx_file=onnx_file,
        max_pad_ratio=float(params.get("max_pad_ratio", "1e9")),
        busy_intra_op_threads=busy_threads,
        peers=peers,
    )


def load_step(args: dict[str, str]) -> LoadedStep:
    """Build the step a model directory asks for (its `voice` and `step` parameters)."""
    config = json.loads(args["model_config"])
    params = model_parameters(config)
    step_name = params.get("step", args.get("model_name", ""))
    manifest = load_voice(params.get("voice", BUNDLED_VOICE))
    if step_name == c.MODEL_TEXT_FRONTEND:
        text_step = TextFrontendStep.for_voice(manifest)
        return LoadedStep(text_step, text_step.input_names)
    options = stage_options(params, args, step_name)
    if step_name == c.MODEL_ACOUSTIC:
        acoustic = AcousticStep.for_family(load_acoustic(manifest, options), manifest.family)
        return LoadedStep(acoustic, acoustic.input_names)
    if step_name == c.MODEL_VOCODER:
        vocoder = VocoderStep(load_vocoder(manifest, options))
        return LoadedStep(vocoder, vocoder.input_names)
    raise ValueError(f"unknown step {step_name!r}")
