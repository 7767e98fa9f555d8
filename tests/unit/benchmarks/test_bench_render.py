from __future__ import annotations

from pathlib import Path

from mandarin_tts import contract as c
from mandarin_tts.serving.render import (
    load_repository,
    render,
    tier_configs,
    without_dynamic_batching,
)
from mandarin_tts.serving.tiers import load_tiers


def test_unbatched_tier_renders_a_valid_repository(tmp_path: Path) -> None:
    tier = load_tiers()["cpu-2"]
    unbatched = without_dynamic_batching(tier)
    configs = tier_configs(unbatched)  # runs `validate`
    assert unbatched.name == "cpu-2-unbatched"
    assert {cfg.max_batch_size for cfg in configs.values()} == {1}
    for name, model in tier.models.items():
        policy = configs[name].dynamic_batching.default_queue_policy
        assert policy.max_queue_size == model.max_queue_size  # queues stay bounded
        assert configs[name].instance_group[0].count == model.instances
    # the original tier is untouched
    original = tier_configs(tier)
    assert original[c.MODEL_ENSEMBLE].max_batch_size == tier.ensemble_max_batch_size
    assert original[c.MODEL_ACOUSTIC].max_batch_size > 1
    written = load_repository(render(unbatched, tmp_path / "repo"))
    assert set(written) == set(configs)
    assert written[c.MODEL_VOCODER].max_batch_size == 1
