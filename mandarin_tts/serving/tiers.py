"""Hardware tiers: load `tiers.toml` into typed settings and pick one for this machine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from mandarin_tts.contract import MODEL_ACOUSTIC, MODEL_TEXT_FRONTEND, MODEL_VOCODER
from mandarin_tts.paths import ACOUSTIC_ONNX, VOCODER_INT8_ONNX, VOCODER_ONNX

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TIERS_FILE = Path(__file__).with_name("tiers.toml")
STEP_MODELS = (MODEL_TEXT_FRONTEND, MODEL_ACOUSTIC, MODEL_VOCODER)
KINDS = ("cpu", "gpu")
PROVIDERS = ("cpu", "cuda", "tensorrt")
# Built ONNX files (names in the models directory) each onnxruntime step may serve, chosen
# per tier with the optional key `onnx_file`; the first one (the float model) is the default.
ONNX_FILE_CHOICES: dict[str, tuple[str, ...]] = {
    MODEL_ACOUSTIC: (ACOUSTIC_ONNX.name,),
    MODEL_VOCODER: (VOCODER_ONNX.name, VOCODER_INT8_ONNX.name),
}


class TierError(ValueError):
    """The tiers file is inconsistent or names an unknown tier."""


@dataclass(frozen=True)
class ModelTier:
    """How one step model is deployed on one tier."""

    instances: int
    kind: str
    provider: str
    fp16: bool
    intra_op_threads: int
    inter_op_threads: int
    max_batch_size: int
    max_queue_delay_us: int
    max_queue_size: int
    queue_timeout_us: int
    max_pad_ratio: float  # padded / real work allowed in one onnxruntime run
    # ONNX file served (optional key; parsing fills in the model's float file). None for
    # the text frontend, which runs no ONNX model.
    onnx_file: str | None = None
    # Threads per op for a run that starts while another instance of the model is busy
    # (optional key; 0 = always intra_op_threads). CPU vocoders only: a lone request gets
    # every thread, concurrent ones do not oversubscribe the cores (peer_activity.py).
    busy_intra_op_threads: int = 0

    def validate(self, where: str) -> None:
        if self.kind not in KINDS:
            raise TierError(f"{where}: kind must be one of {KINDS}, not {self.kind!r}")
        if self.provider not in PROVIDERS:
            raise TierError(f"{where}: provider must be one of {PROVIDERS}")
        if self.provider != "cpu" and self.kind != "gpu":
            raise TierError(f"{where}: provider {self.provider!r} needs kind 'gpu'")
        if self.fp16 and self.provider != "tensorrt":
            raise TierError(f"{where}: fp16 is a TensorRT setting")
        for name in ("instances", "intra_op_threads", "inter_op_threads", "max_batch_size"):
            if getattr(self, name) < 1:
                raise TierError(f"{where}: {name} must be >= 1")
        for name in ("max_queue_delay_us", "max_queue_size", "queue_timeout_us"):
            if getattr(self, name) <= 0:
                raise TierError(f"{where}: {name} must be > 0 (bounded queues)")
        if self.max_pad_ratio < 1.0:
            raise TierError(f"{where}: max_pad_ratio must be >= 1")
        if self.max_queue_size < self.max_batch_size:
            raise TierError(f"{where}: max_queue_size must hold at least one full batch")
        if self.busy_intra_op_threads:
            if not 0 < self.busy_intra_op_threads < self.intra_op_threads:
                raise TierError(f"{where}: busy_intra_op_threads must be 1..intra_op_threads-1")
            if self.kind != "cpu" or self.instances < 2:
                raise TierError(f"{where}: busy_intra_op_threads needs kind 'cpu', instances >= 2")
        known = {name for names in ONNX_FILE_CHOICES.values() for name in names}
        if self.onnx_file is not None and self.onnx_file not in known:
            raise TierError(f"{where}: onnx_file must be one of {sorted(known)}")


@dataclass(frozen=True)
class Tier:
    name: str
    description: str
    cache_mb: int
    models: dict[str, ModelTier]
    cores: int | None = None  # CPU tiers
    gpu: str | None = None  # GPU tiers: substring of the GPU's name

    @property
    def ensemble_max_batch_size(self) -> int:
        # An ensemble may not promise a larger batch than any of its steps accepts.
        return min(m.max_batch_size for m in self.models.values())

    @property
    def cpu_threads(self) -> int:
        """onnxruntime + stub threads the tier asks of the host, for sizing checks."""
        return sum(
            m.instances * (m.intra_op_threads if m.kind == "cpu" else 1)
            for m in self.models.values()
        )


def _resolve_onnx_file(model: str, values: dict[str, Any], where: str) -> dict[str, Any]:
    """`values` with the model's `onnx_file` checked, or set to its float file if absent."""
    choices = ONNX_FILE_CHOICES.get(model)
    if choices is None:
        if "onnx_file" in values:
            raise TierError(f"{where}: onnx_file given, but {model} runs no ONNX model")
        return values
    chosen = values.get("onnx_file", choices[0])
    if chosen not in choices:
        raise TierError(f"{where}: onnx_file must be one of {list(choices)}, not {chosen!r}")
    return {**values, "onnx_file": chosen}


def _model_tier(model: str, values: dict[str, Any], where: str) -> ModelTier:
    names = {f.name for f in fields(ModelTier)}
    required = {f.name for f in fields(ModelTier) if f.default is MISSING}
    unknown = set(values) - names
    missing = required - set(values)
    if unknown:
        raise TierError(f"{where}: unknown keys {sorted(unknown)}")
    if missing:
        raise TierError(f"{where}: missing keys {sorted(missing)}")
    if values.get("busy_intra_op_threads") and model != MODEL_VOCODER:
        raise TierError(f"{where}: busy_intra_op_threads is a vocoder setting")
    tier = ModelTier(**_resolve_onnx_file(model, values, where))
    tier.validate(where)
    return tier


def parse_tiers(data: dict[str, Any]) -> dict[str, Tier]:
    tiers: dict[str, Tier] = {}
    for name, raw in data.get("tiers", {}).items():
        defaults = raw.get("defaults", {})
        models_raw = raw.get("models", {})
        if set(models_raw) != set(STEP_MODELS):
            raise TierError(f"tier {name}: needs exactly the models {STEP_MODELS}")
        models = {
            model: _model_tier(model, {**defaults, **models_raw[model]}, f"tier {name}, {model}")
            for model in STEP_MODELS
        }
        if ("cores" in raw) == ("gpu" in raw):
            raise TierError(f"tier {name}: give exactly one of `cores` or `gpu`")
        tiers[name] = Tier(
            name=name,
            description=raw["description"],
            cache_mb=int(raw["cache_mb"]),
            models=models,
            cores=raw.get("cores"),
            gpu=raw.get("gpu"),
        )
    if not tiers:
        raise TierError("no tiers defined")
    return tiers


def load_tiers(path: Path = TIERS_FILE) -> dict[str, Tier]:
    with path.open("rb") as f:
        return parse_tiers(tomllib.load(f))


def gpu_names() -> list[str]:
    """Names of the visible NVIDIA GPUs, [] if none (or no driver)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def pick_tier(tiers: dict[str, Tier], cores: int, gpus: list[str]) -> Tier:
    """A GPU tier whose name matches the first GPU, else the largest CPU tier that fits.

    CPU tiers never oversubscribe: a 12-core host gets cpu-2's layout rather than cpu-16's.
    """
    for gpu in gpus[:1]:
        # nvidia-smi names look like "Tesla T4", "NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3".
        tokens = re.split(r"[^a-z0-9]+", gpu.lower())
        for tier in tiers.values():
            if tier.gpu and tier.gpu.lower() in tokens:
                return tier
    cpu_tiers = sorted((t for t in tiers.values() if t.cores), key=lambda t: t.cores or 0)
    if not cpu_tiers:
        raise TierError("no CPU tier defined")
    fitting = [t for t in cpu_tiers if (t.cores or 0) <= cores]
    return fitting[-1] if fitting else cpu_tiers[0]


def default_tier(tiers: dict[str, Tier] | None = None) -> Tier:
    tiers = tiers or load_tiers()
    override = os.environ.get("MANDARIN_TTS_TIER")
    if override:
        return get_tier(override, tiers)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return pick_tier(tiers, cores or 1, gpu_names())


def get_tier(name: str, tiers: dict[str, Tier] | None = None) -> Tier:
    tiers = tiers or load_tiers()
    if name not in tiers:
        raise TierError(f"unknown tier {name!r}; known: {', '.join(tiers)}")
    return tiers[name]
