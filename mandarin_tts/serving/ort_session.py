"""onnxruntime sessions configured from a tier's settings (threads, execution provider)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mandarin_tts.contract import MODEL_ACOUSTIC
from mandarin_tts.serving.tiers import PROVIDERS

# onnxruntime optimizers to skip, per step model. The acoustic graph dequantizes its int8
# weights in-graph, and ORT's constant folding does that slowly at load: 10-18 s per
# instance on 2 cores, the largest part of a Triton restart. Without it, loading takes
# ~1 s, outputs are bit-identical and a run is within ~5 % (measured 2026-11-21).
DISABLED_OPTIMIZERS: dict[str, tuple[str, ...]] = {MODEL_ACOUSTIC: ("ConstantFolding",)}


@dataclass(frozen=True)
class OrtSettings:
    provider: str = "cpu"  # cpu | cuda | tensorrt
    fp16: bool = False
    intra_op_threads: int = 1
    inter_op_threads: int = 1
    device_id: int = 0
    disabled_optimizers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"unknown provider {self.provider!r}")


def provider_chain(settings: OrtSettings, trt_cache_dir: Path | None = None) -> list[Any]:
    """Providers in preference order; CPU is always last so a missing GPU build degrades."""
    chain: list[Any] = []
    if settings.provider == "tensorrt":
        trt: dict[str, Any] = {
            "device_id": settings.device_id,
            "trt_fp16_enable": settings.fp16,
        }
        if trt_cache_dir is not None:
            # Engines take minutes to build; cache them across restarts.
            trt.update(trt_engine_cache_enable=True, trt_engine_cache_path=str(trt_cache_dir))
        chain.append(("TensorrtExecutionProvider", trt))
    if settings.provider in ("tensorrt", "cuda"):
        chain.append(("CUDAExecutionProvider", {"device_id": settings.device_id}))
    chain.append("CPUExecutionProvider")
    return chain


def available_chain(chain: list[Any], available: list[str]) -> list[Any]:
    def name(p: Any) -> str:
        return p[0] if isinstance(p, tuple) else p

    return [p for p in chain if name(p) in available]


def make_session(onnx_path: Path, settings: OrtSettings, trt_cache_dir: Path | None = None) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = settings.intra_op_threads
    opts.inter_op_num_threads = settings.inter_op_threads
    opts.execution_mode = (
        ort.ExecutionMode.ORT_PARALLEL
        if settings.inter_op_threads > 1
        else ort.ExecutionMode.ORT_SEQUENTIAL
    )
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Triton instances are separate processes; spinning idle threads would steal the cores
    # other instances need.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    chain = available_chain(provider_chain(settings, trt_cache_dir), ort.get_available_providers())
    return ort.InferenceSession(
        str(onnx_path),
        sess_options=opts,
        providers=chain,
        disabled_optimizers=list(settings.disabled_optimizers) or None,
    )
