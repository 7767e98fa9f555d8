"""Render a complete Triton model repository for one hardware tier.

Configs are built as `tritonclient.grpc.model_config_pb2.ModelConfig` messages (Triton's
own schema), checked (queue policies, batch sizes, the ensemble's tensor wiring) and
written as text protobuf. `python -m mandarin_tts.serving.render --tier cpu-2 --out DIR`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from mandarin_tts import contract as c
from mandarin_tts.build.bundled_voice import bundled_manifest
from mandarin_tts.paths import CACHE_DIR, PROJECT_ROOT
from mandarin_tts.serving.step_io import (
    ACOUSTIC_SEQUENCES,
    CHOICES,
    SCALES,
    TEXT_ALIGNMENT_OUTPUTS,
    has_alignment,
)
from mandarin_tts.serving.tiers import ModelTier, Tier, default_tier, get_tier, load_tiers
from mandarin_tts.voices.manifest import FAMILY_FASTSPEECH2, VoiceManifest
from mandarin_tts.voices.registry import ensemble_name, installed_voices, step_name

COMMITTED_TIER = "cpu-2"  # model_repository/ in git is this tier's render
COMMITTED_REPOSITORY = PROJECT_ROOT / "model_repository"
MODEL_PY = Path(__file__).with_name("triton_models") / "model.py"
DT = mc.DataType


class RenderError(ValueError):
    """A rendered configuration violates the schema or the ensemble wiring."""


@dataclass(frozen=True)
class TensorSpec:
    name: str
    data_type: int
    dims: tuple[int, ...]
    optional: bool = False
    ragged: bool = False

    def input(self) -> mc.ModelInput:
        return mc.ModelInput(
            name=self.name,
            data_type=self.data_type,
            dims=list(self.dims),
            optional=self.optional,
            allow_ragged_batch=self.ragged,
        )

    def output(self) -> mc.ModelOutput:
        return mc.ModelOutput(name=self.name, data_type=self.data_type, dims=list(self.dims))


def _scale_tensors(names: Iterable[str]) -> list[TensorSpec]:
    return [TensorSpec(n, DT.TYPE_FP32, (1,), optional=True) for n in names]


SCALE_IN = tuple(n for n, _, _, _ in SCALES)
SCALE_AC = tuple(n for _, n, _, _ in SCALES)
CHOICE_IN = tuple(n for n, _ in CHOICES)
DTYPES = {
    "int64": DT.TYPE_INT64,
    "int32": DT.TYPE_INT32,
    "float32": DT.TYPE_FP32,
    "bytes": DT.TYPE_STRING,
}

# The public tensors every voice's ensemble has (Triton adds the batch axis in front).
ENSEMBLE_INPUTS = [
    TensorSpec(c.TTS_IN_TEXT, DT.TYPE_STRING, (1,)),
    *_scale_tensors(SCALE_IN),
    *(TensorSpec(n, DT.TYPE_STRING, (1,), optional=True) for n in CHOICE_IN),
    TensorSpec(c.TTS_IN_LEXICON_VERSION, DT.TYPE_STRING, (1,), optional=True),
]
ENSEMBLE_OUTPUTS = [
    TensorSpec(c.TTS_OUT_AUDIO, DT.TYPE_FP32, (-1,)),
    TensorSpec(c.TTS_OUT_SAMPLE_RATE, DT.TYPE_INT32, (1,)),
]
# Timestamps (voices of an aligned family): the text frontend's symbol -> character map
# and the acoustic model's durations, returned only to clients that request them.
TEXT_ALIGNMENT = [TensorSpec(n, DTYPES[t], (-1,)) for n, t in TEXT_ALIGNMENT_OUTPUTS]
ACOUSTIC_DURATIONS = TensorSpec(c.AC_OUT_DURATIONS, DT.TYPE_INT32, (-1,))
ALIGNMENT_OUTPUTS = [
    *TEXT_ALIGNMENT,
    TensorSpec(c.TTS_OUT_DURATIONS, DT.TYPE_INT32, (-1,)),
]


def ensemble_outputs(voice: VoiceManifest) -> list[TensorSpec]:
    return [*ENSEMBLE_OUTPUTS, *(ALIGNMENT_OUTPUTS if has_alignment(voice.family) else [])]


def _sequences(family: str, ragged: bool) -> list[TensorSpec]:
    return [
        TensorSpec(s.name, DTYPES[s.dtype], (-1, *s.trailing), ragged=ragged)
        for s in ACOUSTIC_SEQUENCES[family]
    ]


def step_io(voice: VoiceManifest, step: str) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """(inputs, outputs) of one of the voice's step models, per request."""
    n_mels = int(voice.extra.get("n_mels", c.N_MELS))
    aligned = has_alignment(voice.family)
    if step == c.MODEL_TEXT_FRONTEND:
        return ENSEMBLE_INPUTS, [
            *_sequences(voice.family, ragged=False),
            *(TensorSpec(n, DT.TYPE_FP32, (1,)) for n in SCALE_AC),
            TensorSpec(c.TF_OUT_DEBUG, DT.TYPE_STRING, (2,)),
            *(TEXT_ALIGNMENT if aligned else []),
        ]
    if step == c.MODEL_ACOUSTIC:
        return (
            [*_sequences(voice.family, ragged=True), *_scale_tensors(SCALE_AC)],
            [
                TensorSpec(c.AC_OUT_MEL, DT.TYPE_FP32, (-1, n_mels)),
                *([ACOUSTIC_DURATIONS] if aligned else []),
            ],
        )
    if step == c.MODEL_VOCODER:
        return (
            [TensorSpec(c.VOC_IN_MEL, DT.TYPE_FP32, (-1, n_mels), ragged=True)],
            [
                TensorSpec(c.VOC_OUT_AUDIO, DT.TYPE_FP32, (-1,)),
                TensorSpec(c.VOC_OUT_SAMPLE_RATE, DT.TYPE_INT32, (1,)),
            ],
        )
    raise ValueError(f"unknown step {step!r}")


def ensemble_steps(voice: VoiceManifest) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(model, {step input: ensemble tensor}, {step output: ensemble tensor}); internal
    tensors are prefixed so they cannot collide with the public ones."""
    sequences = [s.name for s in ACOUSTIC_SEQUENCES[voice.family]]
    internal = {n: f"_{n}" for n in (*sequences, *SCALE_AC)}
    aligned = has_alignment(voice.family)
    text_out = {**internal, **({t.name: t.name for t in TEXT_ALIGNMENT} if aligned else {})}
    acoustic_out = {c.AC_OUT_MEL: "_mel"}
    if aligned:
        acoustic_out[c.AC_OUT_DURATIONS] = c.TTS_OUT_DURATIONS
    return [
        (
            step_name(voice.name, c.MODEL_TEXT_FRONTEND),
            {t.name: t.name for t in ENSEMBLE_INPUTS},
            text_out,
        ),
        (step_name(voice.name, c.MODEL_ACOUSTIC), internal, acoustic_out),
        (
            step_name(voice.name, c.MODEL_VOCODER),
            {c.VOC_IN_MEL: "_mel"},
            {c.VOC_OUT_AUDIO: c.TTS_OUT_AUDIO, c.VOC_OUT_SAMPLE_RATE: c.TTS_OUT_SAMPLE_RATE},
        ),
    ]


def _queue_policy(m: ModelTier) -> mc.ModelQueuePolicy:
    return mc.ModelQueuePolicy(
        timeout_action=mc.ModelQueuePolicy.REJECT,
        default_timeout_microseconds=m.queue_timeout_us,
        allow_timeout_override=True,
        max_queue_size=m.max_queue_size,
    )


def _onnx_file(voice: VoiceManifest, step: str, m: ModelTier) -> str:
    """The tier's file choice if this voice has that file (the bundled voice's int8
    vocoder), else the voice's own file for the step."""
    if m.onnx_file and m.onnx_file in voice.files.values():
        return m.onnx_file
    if voice.family == FAMILY_FASTSPEECH2 or step == c.MODEL_VOCODER:
        return voice.files[step]
    return ""  # a multi-file acoustic model (Sambert): the manifest names its files


def step_config(voice: VoiceManifest, step: str, m: ModelTier) -> mc.ModelConfig:
    inputs, outputs = step_io(voice, step)
    params = {"step": step, "voice": voice.name}
    if step != c.MODEL_TEXT_FRONTEND:
        params.update(
            onnx_file=_onnx_file(voice, step, m),
            provider=m.provider,
            fp16=str(m.fp16).lower(),
            intra_op_threads=str(m.intra_op_threads),
            inter_op_threads=str(m.inter_op_threads),
            max_pad_ratio=f"{m.max_pad_ratio:g}",
        )
        if m.busy_intra_op_threads:
            params["busy_intra_op_threads"] = str(m.busy_intra_op_threads)
    config = mc.ModelConfig(
        name=step_name(voice.name, step),
        backend="python",
        max_batch_size=m.max_batch_size,
        input=[t.input() for t in inputs],
        output=[t.output() for t in outputs],
        dynamic_batching=mc.ModelDynamicBatching(
            max_queue_delay_microseconds=m.max_queue_delay_us,
            default_queue_policy=_queue_policy(m),
        ),
        instance_group=[
            mc.ModelInstanceGroup(
                count=m.instances,
                kind=(
                    mc.ModelInstanceGroup.KIND_GPU
                    if m.kind == "gpu"
                    else mc.ModelInstanceGroup.KIND_CPU
                ),
            )
        ],
    )
    for key, value in params.items():
        config.parameters[key].string_value = value
    return config


def ensemble_config(voice: VoiceManifest, tier: Tier) -> mc.ModelConfig:
    config = mc.ModelConfig(
        name=ensemble_name(voice.name),
        platform="ensemble",
        max_batch_size=tier.ensemble_max_batch_size,
        input=[t.input() for t in ENSEMBLE_INPUTS],
        output=[t.output() for t in ensemble_outputs(voice)],
    )
    # Repeated prompts (greetings, IVR menus) come from Triton's response cache, keyed by
    # the whole request (LEXICON_VERSION included). It sits on the ensemble, not on its
    # steps. When Triton 2.51 cached the acoustic step and that step's stub was stopped,
    # requests reached the vocoder with no mel (tests/integration/test_hangs.py). A tier
    # without cache memory (cache_mb 0: benchmarks) caches nothing.
    config.response_cache.enable = tier.cache_mb > 0
    for model, in_map, out_map in ensemble_steps(voice):
        step = config.ensemble_scheduling.step.add(model_name=model, model_version=-1)
        step.input_map.update(in_map)
        step.output_map.update(out_map)
    return config


def without_response_cache(tier: Tier) -> Tier:
    """The same tier with Triton's response cache off, for benchmarks: with it, repeated
    texts would be answered from the cache instead of being synthesized."""
    return replace(tier, name=f"{tier.name}-uncached", cache_mb=0)


def without_dynamic_batching(tier: Tier) -> Tier:
    """The same tier with batching off, for benchmarks: every execute() gets one request.

    The queues keep their bounds, so the render still passes `validate`.
    """
    models = {
        name: replace(m, max_batch_size=1, max_queue_delay_us=1) for name, m in tier.models.items()
    }
    return replace(tier, name=f"{tier.name}-unbatched", models=models)


def tier_configs(
    tier: Tier, voices: Iterable[VoiceManifest] | None = None
) -> dict[str, mc.ModelConfig]:
    """Every voice's step models and ensemble on `tier` (default: the bundled voice)."""
    configs: dict[str, mc.ModelConfig] = {}
    for voice in voices if voices is not None else [bundled_manifest(Path("."))]:
        for step, m in tier.models.items():
            config = step_config(voice, step, m)
            configs[config.name] = config
        ensemble = ensemble_config(voice, tier)
        configs[ensemble.name] = ensemble
    validate(configs)
    return configs


# --- validation ---------------------------------------------------------------------------


def _dims_compatible(produced: Iterable[int], consumed: Iterable[int]) -> bool:
    a, b = list(produced), list(consumed)
    return len(a) == len(b) and all(
        x == y or x == -1 or y == -1 for x, y in zip(a, b, strict=False)
    )


def validate_step(config: mc.ModelConfig) -> None:
    where = f"model {config.name}"
    if config.max_batch_size < 1:
        raise RenderError(f"{where}: needs batching (max_batch_size >= 1)")
    if not config.HasField("dynamic_batching"):
        raise RenderError(f"{where}: no dynamic_batching")
    policy = config.dynamic_batching.default_queue_policy
    if policy.max_queue_size < 1 or policy.default_timeout_microseconds < 1:
        raise RenderError(f"{where}: queue must be bounded in size and time")
    if policy.timeout_action != mc.ModelQueuePolicy.REJECT:
        raise RenderError(f"{where}: overload must REJECT")
    if not config.instance_group or any(g.count < 1 for g in config.instance_group):
        raise RenderError(f"{where}: needs at least one instance")
    for tensor in config.input:
        if -1 in list(tensor.dims) and not tensor.allow_ragged_batch:
            raise RenderError(f"{where}: variable-length input {tensor.name} must be ragged")


def validate_ensemble(ensemble: mc.ModelConfig, steps: dict[str, mc.ModelConfig]) -> None:
    """Every step input is fed with the right dtype/dims; every ensemble output produced."""
    available: dict[str, tuple[int, list[int]]] = {
        t.name: (t.data_type, list(t.dims)) for t in ensemble.input
    }
    optional_inputs = {t.name for t in ensemble.input if t.optional}
    for step in ensemble.ensemble_scheduling.step:
        model = steps.get(step.model_name)
        if model is None:
            raise RenderError(f"ensemble step {step.model_name} has no model config")
        if model.max_batch_size < ensemble.max_batch_size:
            raise RenderError(f"{model.name}: max_batch_size below the ensemble's")
        model_inputs = {t.name: t for t in model.input}
        for step_in, tensor in step.input_map.items():
            if step_in not in model_inputs:
                raise RenderError(f"{model.name} has no input {step_in}")
            if tensor not in available:
                raise RenderError(f"{model.name}.{step_in} reads {tensor}, produced by nobody")
            want = model_inputs[step_in]
            dtype, dims = available[tensor]
            if dtype != want.data_type or not _dims_compatible(dims, want.dims):
                raise RenderError(
                    f"{model.name}.{step_in}: gets {DT.Name(dtype)}{dims}, "
                    f"wants {DT.Name(want.data_type)}{list(want.dims)}"
                )
            if tensor in optional_inputs and not want.optional:
                raise RenderError(f"{model.name}.{step_in} is required but fed an optional input")
        for name, tensor in model_inputs.items():
            if not tensor.optional and name not in step.input_map:
                raise RenderError(f"{model.name}: required input {name} is not mapped")
        model_outputs = {t.name: t for t in model.output}
        for step_out, tensor in step.output_map.items():
            if step_out not in model_outputs:
                raise RenderError(f"{model.name} has no output {step_out}")
            if tensor in available:
                raise RenderError(f"ensemble tensor {tensor} is produced twice")
            out = model_outputs[step_out]
            available[tensor] = (out.data_type, list(out.dims))
    for out in ensemble.output:
        if out.name not in available:
            raise RenderError(f"ensemble output {out.name} is produced by no step")
        dtype, dims = available[out.name]
        if dtype != out.data_type or not _dims_compatible(dims, out.dims):
            raise RenderError(f"ensemble output {out.name}: dtype/dims mismatch")


def validate(configs: dict[str, mc.ModelConfig]) -> None:
    for name, config in configs.items():
        if config.name != name:
            raise RenderError(f"config for {name} is named {config.name}")
        if config.platform != "ensemble":
            validate_step(config)
    ensembles = [cfg for cfg in configs.values() if cfg.platform == "ensemble"]
    if not ensembles:
        raise RenderError("no ensemble: the repository serves no voice")
    steps = {n: cfg for n, cfg in configs.items() if cfg.platform != "ensemble"}
    for ensemble in ensembles:
        validate_ensemble(ensemble, steps)


# --- writing ------------------------------------------------------------------------------


def config_text(config: mc.ModelConfig, tier: Tier) -> str:
    header = (
        f"# Rendered for tier {tier.name} ({tier.description}) by\n"
        f"# `python -m mandarin_tts.serving.render --tier {tier.name}`; edit tiers.toml instead.\n"
    )
    return header + text_format.MessageToString(config)


def parse_config(text: str) -> mc.ModelConfig:
    return text_format.Parse(text, mc.ModelConfig())


def _model_files(config: mc.ModelConfig, tier: Tier) -> dict[str, bytes]:
    files = {"config.pbtxt": config_text(config, tier).encode()}
    if config.platform == "ensemble":
        # Triton needs the version directory; git needs a file to keep it.
        files["1/.gitkeep"] = b""
    else:
        files["1/model.py"] = MODEL_PY.read_bytes()
    return files


def _current_files(model_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(model_dir)): p.read_bytes()
        for p in model_dir.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def render(tier: Tier, out_dir: Path, voices: Iterable[VoiceManifest] | None = None) -> Path:
    """Write the repository for `tier` and `voices` (default: the bundled voice) into
    `out_dir`; model directories of voices no longer rendered are removed.

    A model directory that already holds exactly the rendered files is left alone, so
    re-rendering the repository a server is running from changes nothing.
    """
    configs = tier_configs(tier, voices)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*/config.pbtxt"):
        if stale.parent.name not in configs:
            shutil.rmtree(stale.parent)
    for name, config in configs.items():
        model_dir = out_dir / name
        files = _model_files(config, tier)
        if model_dir.is_dir() and _current_files(model_dir) == files:
            continue
        if model_dir.exists():
            shutil.rmtree(model_dir)
        for rel, data in files.items():
            path = model_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return out_dir


def repository_for(tier: Tier) -> Path:
    """Where a tier is served from: rendered under the cache, for the installed voices.
    (The committed model_repository/ is cpu-2 with the bundled voice, for reading.)"""
    return CACHE_DIR / "model_repository" / tier.name


def load_repository(repo: Path) -> dict[str, mc.ModelConfig]:
    return {p.parent.name: parse_config(p.read_text()) for p in sorted(repo.glob("*/config.pbtxt"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tier", help="tier name (default: picked from this machine)")
    parser.add_argument("--out", type=Path, help="output directory")
    parser.add_argument("--all", action="store_true", help="render every tier under --out")
    parser.add_argument("--list", action="store_true", help="list the tiers")
    parser.add_argument(
        "--committed",
        action="store_true",
        help=f"rewrite the committed {COMMITTED_REPOSITORY.name}/ ({COMMITTED_TIER}, bundled voice)",
    )
    args = parser.parse_args(argv)
    tiers = load_tiers()
    if args.list:
        for tier in tiers.values():
            print(f"{tier.name:10s} {tier.description}")
        return 0
    if args.committed:
        print(render(tiers[COMMITTED_TIER], COMMITTED_REPOSITORY))
        return 0
    voices = list(installed_voices().values()) or None
    if args.all:
        out = args.out or Path("rendered")
        for tier in tiers.values():
            print(render(tier, out / tier.name, voices))
        return 0
    tier = get_tier(args.tier, tiers) if args.tier else default_tier(tiers)
    print(render(tier, args.out or repository_for(tier), voices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
