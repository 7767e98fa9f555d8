from __future__ import annotations

from dataclasses import fields, replace

import pytest
from tune_helpers import fixture_tier

from mandarin_tts.contract import MODEL_ACOUSTIC, MODEL_TEXT_FRONTEND, MODEL_VOCODER
from mandarin_tts.serving.tiers import TierError
from mandarin_tts.serving.tune.space import (
    FINE_AXES,
    TUNING_ORDER,
    ModelAxes,
    SearchSpace,
    default_space,
    host_threads,
    instance_threads,
    restrict,
    settings_key,
    stage_candidates,
    stages,
    with_batch_sizes,
    with_model,
)


@pytest.fixture
def cpu2():
    return fixture_tier("cpu-2")


def test_host_threads_follow_the_stated_rule(cpu2) -> None:
    voc = replace(cpu2.models[MODEL_VOCODER], instances=3, intra_op_threads=2, inter_op_threads=2)
    assert instance_threads(voc) == 3
    gpu = replace(voc, kind="gpu", provider="cuda")
    assert instance_threads(gpu) == 1
    tier = with_model(cpu2, MODEL_VOCODER, instances=3, inter_op_threads=2)
    expected = sum(
        m.instances * (m.intra_op_threads + m.inter_op_threads - 1) for m in tier.models.values()
    )
    assert host_threads(tier) == expected == 1 + 1 + 3 * 3


def test_with_model_replaces_one_model_and_validates(cpu2) -> None:
    tier = with_model(cpu2, MODEL_ACOUSTIC, instances=2)
    assert tier.models[MODEL_ACOUSTIC].instances == 2
    assert cpu2.models[MODEL_ACOUSTIC].instances == 1  # the loaded tier is untouched
    assert tier.models[MODEL_VOCODER] is cpu2.models[MODEL_VOCODER]
    with pytest.raises(TierError):
        with_model(cpu2, MODEL_ACOUSTIC, instances=0)


def test_stages_go_model_by_model_compute_before_queue(cpu2) -> None:
    space = default_space(cpu2, cores=2, quick=True)
    labels = [s.label for s in stages(space)]
    assert labels == [f"{m}/{s}" for m in TUNING_ORDER for s in ("compute", "queue")]
    full = default_space(cpu2, cores=2)
    assert [s.label for s in stages(full)][:3] == [
        f"{MODEL_VOCODER}/{s}" for s in ("compute", "inter", "queue")
    ]
    # A stage whose axes are all empty is left out.
    only_delay = replace(space, models={MODEL_VOCODER: ModelAxes(max_queue_delay_us=(1, 2))})
    assert [s.label for s in stages(only_delay)] == [f"{MODEL_VOCODER}/queue"]


def test_every_field_but_the_fine_ones_is_a_compute_axis() -> None:
    # A new ModelAxes field (e.g. an ONNX file choice) joins the compute stage by itself.
    stages_ = dict(ModelAxes().stages())
    compute, fine = set(stages_.pop("compute")), set(FINE_AXES.values())
    assert compute | fine == {f.name for f in fields(ModelAxes)}
    assert not compute & fine
    assert sorted(axis for axes in stages_.values() for axis in axes) == sorted(fine)


def test_default_space_keeps_the_current_values_and_fits_the_machine(cpu2) -> None:
    for quick in (True, False):
        space = default_space(cpu2, cores=2, quick=quick)
        assert list(space.models) == list(TUNING_ORDER)
        for name, axes in space.models.items():
            m = cpu2.models[name]
            assert m.instances in axes.instances
            assert m.max_queue_delay_us in axes.max_queue_delay_us
            assert max(axes.instances) <= max(2, m.instances)
            assert axes.max_batch_size == ()  # optional axis, off by default
        assert space.models[MODEL_TEXT_FRONTEND].intra_op_threads == ()  # no onnxruntime
    small, large = default_space(cpu2, 2, True), default_space(cpu2, 2, False)
    assert len(small.models[MODEL_VOCODER].max_queue_delay_us) < len(
        large.models[MODEL_VOCODER].max_queue_delay_us
    )


def test_stage_candidates_prune_oversubscription_and_skip_the_incumbent(cpu2) -> None:
    space = default_space(cpu2, cores=2, quick=False)
    stage = stages(space)[0]  # vocoder/compute
    found = stage_candidates(cpu2, space, stage)
    keys = [settings_key(t) for t in found.tiers]
    assert settings_key(cpu2) not in keys
    assert len(set(keys)) == len(keys)
    assert found.tiers, "some vocoder settings fit 4 threads"
    for tier in found.tiers:
        assert host_threads(tier) <= space.thread_limit == 4
        for name in (MODEL_TEXT_FRONTEND, MODEL_ACOUSTIC):
            assert tier.models[name] == cpu2.models[name]
        assert tier.models[MODEL_VOCODER].max_queue_delay_us == 8_000  # not this stage's axis
    assert found.skipped
    for skipped in found.skipped:
        assert host_threads(skipped.tier) > 4
        assert "host threads" in skipped.reason
    # Generated + pruned = the whole product minus the incumbent.
    axes = space.models[MODEL_VOCODER]
    product = len(axes.instances) * len(axes.intra_op_threads)
    assert len(found.tiers) + len(found.skipped) == product - 1


def test_more_cores_prune_less(cpu2) -> None:
    small, large = default_space(cpu2, 2), default_space(cpu2, 8)
    stage = stages(small)[0]
    assert len(stage_candidates(cpu2, large, stage).tiers) > len(
        stage_candidates(cpu2, small, stage).tiers
    )


def test_invalid_combinations_are_skipped_with_the_reason(cpu2) -> None:
    space = with_batch_sizes(default_space(cpu2, 2), (8, 64))  # 64 > max_queue_size 32
    stage = stages(space)[0]
    found = stage_candidates(cpu2, space, stage)
    assert any("max_queue_size" in s.reason for s in found.skipped)
    assert all(t.models[MODEL_VOCODER].max_batch_size == 8 for t in found.tiers)


def test_restrict_to_some_models(cpu2) -> None:
    space = restrict(default_space(cpu2, 2), [MODEL_VOCODER])
    assert list(space.models) == [MODEL_VOCODER]
    with pytest.raises(ValueError, match="unknown"):
        restrict(space, ["nope"])


def test_thread_limit_scales_with_the_factor() -> None:
    assert SearchSpace(models={}, cores=4, max_threads_per_core=1.5).thread_limit == 6
