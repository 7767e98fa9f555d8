"""A frozen copy of tiers.toml from before the first cpu-2 tuning run: the tuner's tests
assert exact edits, so they must not depend on values a later tuning run writes."""

from pathlib import Path

from mandarin_tts.serving.tiers import Tier, get_tier, load_tiers

FIXTURE_TIERS = Path(__file__).with_name("tiers_before_tuning.toml")


def fixture_tier(name: str) -> Tier:
    return get_tier(name, load_tiers(FIXTURE_TIERS))
