"""What the tuner sweeps, as candidate tiers made with `dataclasses.replace` on a loaded tier.

Per step model a `ModelAxes` lists the values to try for some `ModelTier` fields (an empty
tuple keeps the tier's value). Each axis is named after the field it sets, so a new
dimension (say, which ONNX file a model loads) is one more field here and nothing else.

Pruning rule (stated once, used everywhere): a candidate is dropped when the host threads
it asks for exceed `max_threads_per_core` x the machine's cores (default 2x). A CPU model
instance counts `intra_op_threads + inter_op_threads - 1` threads (onnxruntime's two pools
share the calling thread; the text frontend has 1 + 1 - 1 = 1), a GPU instance counts 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from typing import Any

from mandarin_tts.contract import MODEL_ACOUSTIC, MODEL_TEXT_FRONTEND, MODEL_VOCODER
from mandarin_tts.serving.tiers import ModelTier, Tier, TierError

# Axes swept one at a time, in this order, after the coarse stage of each model; every
# other axis is a "compute" axis swept jointly first (instances x intra-op threads x batch
# size x any later field).
FINE_AXES = {"inter": "inter_op_threads", "queue": "max_queue_delay_us"}
# Most expensive step first: the vocoder dominates the CPU time of one request.
TUNING_ORDER = (MODEL_VOCODER, MODEL_ACOUSTIC, MODEL_TEXT_FRONTEND)
ORT_MODELS = (MODEL_ACOUSTIC, MODEL_VOCODER)  # the text frontend runs no onnxruntime


@dataclass(frozen=True)
class ModelAxes:
    """Values to try for one step model; () keeps the tier's current value."""

    instances: tuple[int, ...] = ()
    intra_op_threads: tuple[int, ...] = ()
    inter_op_threads: tuple[int, ...] = ()
    max_queue_delay_us: tuple[int, ...] = ()
    max_batch_size: tuple[int, ...] = ()  # optional: empty in the default space

    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self))

    def stages(self) -> list[tuple[str, tuple[str, ...]]]:
        """(stage name, axes) in sweep order: compute axes jointly, then each fine axis."""
        fine = set(FINE_AXES.values())
        compute = tuple(n for n in self.names() if n not in fine)
        return [("compute", compute), *((stage, (axis,)) for stage, axis in FINE_AXES.items())]


@dataclass(frozen=True)
class SearchSpace:
    models: dict[str, ModelAxes]  # insertion order is the tuning order
    cores: int
    max_threads_per_core: float = 2.0

    @property
    def thread_limit(self) -> float:
        return self.max_threads_per_core * self.cores


@dataclass(frozen=True)
class Stage:
    model: str
    name: str
    axes: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.model}/{self.name}"


@dataclass(frozen=True)
class Skipped:
    tier: Tier
    reason: str


@dataclass(frozen=True)
class StageCandidates:
    stage: Stage
    tiers: list[Tier]
    skipped: list[Skipped] = field(default_factory=list)


def instance_threads(m: ModelTier) -> int:
    if m.kind == "gpu":
        return 1
    return m.intra_op_threads + m.inter_op_threads - 1


def host_threads(tier: Tier) -> int:
    return sum(m.instances * instance_threads(m) for m in tier.models.values())


def with_model(tier: Tier, model: str, **values: Any) -> Tier:
    """`tier` with some fields of one step model replaced (validated like tiers.toml)."""
    new = replace(tier.models[model], **values)
    new.validate(f"candidate, {model}")
    return replace(tier, models={**tier.models, model: new})


def settings_key(tier: Tier) -> tuple[ModelTier, ...]:
    """Identity of a candidate: its step models (name and description do not matter)."""
    return tuple(tier.models[name] for name in sorted(tier.models))


def stages(space: SearchSpace) -> list[Stage]:
    return [
        Stage(model, name, axes)
        for model, model_axes in space.models.items()
        for name, axes in model_axes.stages()
        if any(getattr(model_axes, a) for a in axes)
    ]


def _choices(incumbent: ModelTier, axes: ModelAxes, names: tuple[str, ...]) -> dict[str, tuple]:
    return {n: getattr(axes, n) or (getattr(incumbent, n),) for n in names}


def _combinations(choices: dict[str, tuple]) -> Iterator[dict[str, Any]]:
    for values in itertools.product(*choices.values()):
        yield dict(zip(choices, values, strict=True))


def stage_candidates(incumbent: Tier, space: SearchSpace, stage: Stage) -> StageCandidates:
    """The new tiers: every combination of the stage's axes around `incumbent`, minus
    `incumbent` itself (already measured), invalid and oversubscribed combinations."""
    axes = space.models[stage.model]
    result = StageCandidates(stage, [])
    for values in _combinations(_choices(incumbent.models[stage.model], axes, stage.axes)):
        try:
            tier = with_model(incumbent, stage.model, **values)
        except TierError as error:
            result.skipped.append(Skipped(incumbent, f"{values}: {error}"))
            continue
        if settings_key(tier) == settings_key(incumbent):
            continue
        threads = host_threads(tier)
        if threads > space.thread_limit:
            result.skipped.append(
                Skipped(tier, f"{threads} host threads > {space.thread_limit:g} allowed")
            )
            continue
        result.tiers.append(tier)
    return result


def _powers_of_two(limit: int) -> list[int]:
    return [2**k for k in range(limit.bit_length()) if 2**k <= limit]


def _with(values: list[int], current: int) -> tuple[int, ...]:
    return tuple(sorted({*values, current}))


def default_space(tier: Tier, cores: int, quick: bool = False) -> SearchSpace:
    """A small space around `tier` for a machine with `cores` cores.

    Instances and intra-op threads go through the powers of two up to the core count;
    inter-op threads 1-2 (full only); the batcher delay from half to twice the current value
    (quick) or 1-32 ms (full). The text frontend (no onnxruntime) sweeps instances and delay.
    """
    max_instances = min(cores, 2) if quick else cores
    models: dict[str, ModelAxes] = {}
    for name in TUNING_ORDER:
        m = tier.models[name]
        delays = (
            [m.max_queue_delay_us // 2, m.max_queue_delay_us * 2]
            if quick
            else [1_000, 2_000, 4_000, 8_000, 16_000, 32_000]
        )
        instances = _with(_powers_of_two(max_instances), m.instances)
        delay = _with([d for d in delays if d > 0], m.max_queue_delay_us)
        if name in ORT_MODELS:
            models[name] = ModelAxes(
                instances=instances,
                intra_op_threads=_with(_powers_of_two(cores), m.intra_op_threads),
                inter_op_threads=() if quick else _with([1, 2], m.inter_op_threads),
                max_queue_delay_us=delay,
            )
        else:
            models[name] = ModelAxes(instances=instances, max_queue_delay_us=delay)
    return SearchSpace(models=models, cores=cores)


def restrict(space: SearchSpace, models: list[str]) -> SearchSpace:
    unknown = set(models) - set(space.models)
    if unknown:
        raise ValueError(f"unknown models {sorted(unknown)}; known: {list(space.models)}")
    return replace(space, models={m: a for m, a in space.models.items() if m in models})


def with_batch_sizes(space: SearchSpace, sizes: tuple[int, ...]) -> SearchSpace:
    """Add the optional max_batch_size axis to the onnxruntime models."""
    return replace(
        space,
        models={
            m: replace(a, max_batch_size=sizes) if m in ORT_MODELS else a
            for m, a in space.models.items()
        },
    )
