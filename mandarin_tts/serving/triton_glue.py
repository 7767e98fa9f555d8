"""Glue between Triton's Python backend and the steps: build a step from the `args` Triton
passes to `initialize`, and turn step results into responses. Kept free of
`triton_python_backend_utils` so it is importable (and tested) outside the server."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mandarin_tts import contract as c
from mandarin_tts.serving.int8_support import servable_onnx_file
from mandarin_tts.serving.ort_session import DISABLED_OPTIMIZERS, OrtSettings, make_session
from mandarin_tts.serving.steps import SPECS, OnnxBatchStep, TextFrontendStep

# Where the Python-backend configs find the ONNX files named by their `onnx_file` parameter
# (the files are built, not committed). Relative names resolve against this directory.
MODELS_DIR_ENV = "MANDARIN_TTS_MODELS_DIR"


@dataclass
class LoadedStep:
    step: TextFrontendStep | OnnxBatchStep
    input_names: tuple[str, ...]


def model_parameters(model_config: dict[str, Any]) -> dict[str, str]:
    return {k: v.get("string_value", "") for k, v in model_config.get("parameters", {}).items()}


def models_dir() -> Path:
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override)
    from mandarin_tts.paths import MODELS_DIR

    return MODELS_DIR


def resolve_onnx(name: str) -> Path:
    path = Path(name)
    if not path.is_absolute():
        path = models_dir() / path
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build it with `make models`")
    return path


def ort_settings(params: dict[str, str], device_id: int) -> OrtSettings:
    return OrtSettings(
        provider=params.get("provider", "cpu"),
        fp16=params.get("fp16", "false").lower() == "true",
        intra_op_threads=int(params.get("intra_op_threads", "1")),
        inter_op_threads=int(params.get("inter_op_threads", "1")),
        device_id=device_id,
    )


def load_step(args: dict[str, str]) -> LoadedStep:
    """Build the step a model directory asks for (its `step` parameter)."""
    config = json.loads(args["model_config"])
    params = model_parameters(config)
    step_name = params.get("step", args.get("model_name", ""))
    if step_name == c.MODEL_TEXT_FRONTEND:
        return LoadedStep(
            TextFrontendStep.default(),
            (c.TTS_IN_TEXT, c.TTS_IN_SPEED, c.TTS_IN_PITCH, c.TTS_IN_ENERGY),
        )
    if step_name not in SPECS:
        raise ValueError(f"unknown step {step_name!r}")
    spec = SPECS[step_name]
    device_id = int(args.get("model_instance_device_id", "0") or 0)
    trt_cache = models_dir() / "trt_cache"
    settings = replace(
        ort_settings(params, device_id),
        disabled_optimizers=DISABLED_OPTIMIZERS.get(step_name, ()),
    )
    onnx_file, warning = servable_onnx_file(params["onnx_file"])
    if warning:
        print(f"WARNING {step_name}: {warning}", file=sys.stderr, flush=True)
    session = make_session(
        resolve_onnx(onnx_file),
        settings,
        trt_cache if settings.provider == "tensorrt" else None,
    )
    names = (spec.sequence_input, *(name for name, _ in spec.scalar_inputs))
    max_pad_ratio = float(params.get("max_pad_ratio", "1e9"))
    return LoadedStep(OnnxBatchStep(session, spec, max_pad_ratio), names)
