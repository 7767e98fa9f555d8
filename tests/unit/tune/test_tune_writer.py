from __future__ import annotations

import difflib
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from tune_helpers import FIXTURE_TIERS, fixture_tier

from mandarin_tts.contract import MODEL_ACOUSTIC, MODEL_TEXT_FRONTEND, MODEL_VOCODER
from mandarin_tts.serving.tiers import TIERS_FILE, TierError, get_tier, load_tiers, parse_tiers
from mandarin_tts.serving.tune.space import with_model
from mandarin_tts.serving.tune.writer import TomlEditError, edit_tier_text, toml_value, write_tier

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@pytest.fixture
def tiers_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "tiers.toml"
    shutil.copy(FIXTURE_TIERS, copy)
    return copy


def _diff(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed lines, added lines), in file order."""
    old, new = before.splitlines(), after.splitlines()
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if tag != "equal":
            removed += old[i1:i2]
            added += new[j1:j2]
    return removed, added


def test_round_trip_changes_only_the_tuned_tier(tiers_copy: Path) -> None:
    real_before = TIERS_FILE.read_bytes()
    before_text = tiers_copy.read_text()
    before = load_tiers(tiers_copy)
    cpu2 = before["cpu-2"]
    wanted = with_model(cpu2, MODEL_VOCODER, instances=2, intra_op_threads=1)
    wanted = with_model(wanted, MODEL_VOCODER, max_queue_delay_us=16_000)
    # acoustic's intra_op_threads comes from [tiers.cpu-2.defaults]: it must be added to the
    # acoustic table, not changed in the defaults the other models share.
    wanted = with_model(wanted, MODEL_ACOUSTIC, intra_op_threads=2)

    assert write_tier(tiers_copy, wanted) is True

    after = load_tiers(tiers_copy)
    assert after["cpu-2"].models == wanted.models
    assert after["cpu-2"].models[MODEL_TEXT_FRONTEND].intra_op_threads == 1
    for name, tier in before.items():
        if name != "cpu-2":
            assert after[name] == tier
    after_text = tiers_copy.read_text()
    removed, added = _diff(before_text, after_text)
    assert removed == ["instances = 1", "intra_op_threads = 2", "max_queue_delay_us = 8_000"]
    assert added == [
        "intra_op_threads = 2",  # appended to [tiers.cpu-2.models.acoustic]
        "instances = 2",
        "intra_op_threads = 1",
        "max_queue_delay_us = 16_000",
    ]
    # Every comment line survives, in order.
    comments = [line for line in before_text.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in after_text.splitlines() if line.lstrip().startswith("#")] == comments
    assert len(after_text.splitlines()) == len(before_text.splitlines()) + 1  # one key added
    assert TIERS_FILE.read_bytes() == real_before  # the real file is never touched


@pytest.mark.parametrize("name", sorted(load_tiers(FIXTURE_TIERS)))
def test_every_tier_can_be_written(tiers_copy: Path, name: str) -> None:
    tier = get_tier(name, load_tiers(tiers_copy))
    voc = tier.models[MODEL_VOCODER]
    wanted = with_model(tier, MODEL_VOCODER, instances=voc.instances + 1)
    wanted = with_model(wanted, MODEL_TEXT_FRONTEND, max_queue_delay_us=3_000)
    assert write_tier(tiers_copy, wanted)
    assert load_tiers(tiers_copy)[name].models == wanted.models


def test_the_edit_lands_in_the_right_tables(tiers_copy: Path) -> None:
    cpu2 = get_tier("cpu-2", load_tiers(tiers_copy))
    wanted = with_model(cpu2, MODEL_ACOUSTIC, intra_op_threads=2)
    write_tier(tiers_copy, wanted)
    lines = tiers_copy.read_text().splitlines()
    start = lines.index("[tiers.cpu-2.models.acoustic]")
    end = lines.index("[tiers.cpu-2.models.vocoder]")
    assert "intra_op_threads = 2" in lines[start:end]
    defaults = lines.index("[tiers.cpu-2.defaults]")
    assert (
        "intra_op_threads = 1"
        in lines[defaults : lines.index("[tiers.cpu-2.models.text_frontend]")]
    )


def test_unchanged_values_write_nothing(tiers_copy: Path) -> None:
    before = tiers_copy.read_bytes()
    assert write_tier(tiers_copy, get_tier("cpu-2", load_tiers(tiers_copy))) is False
    assert tiers_copy.read_bytes() == before


def test_an_invalid_tier_is_refused_and_the_file_left_alone(tiers_copy: Path) -> None:
    cpu2 = get_tier("cpu-2", load_tiers(tiers_copy))
    # Bypasses with_model's validation: a batch larger than the queue.
    bad = replace(cpu2.models[MODEL_VOCODER], max_batch_size=64)
    before = tiers_copy.read_bytes()
    with pytest.raises(TierError):
        write_tier(tiers_copy, replace(cpu2, models={**cpu2.models, MODEL_VOCODER: bad}))
    assert tiers_copy.read_bytes() == before
    assert not list(tiers_copy.parent.glob(".tiers.toml.*"))  # no temp file left behind


def test_trailing_comments_and_other_tiers_are_kept() -> None:
    text = FIXTURE_TIERS.read_text().replace(
        'onnx_file = "vocoder_int8.onnx"\ninstances = 1\n',
        'onnx_file = "vocoder_int8.onnx"\ninstances = 1  # measured 2026-11\n',
    )
    assert "# measured 2026-11" in text
    cpu2 = parse_tiers(tomllib.loads(text))["cpu-2"]
    new = edit_tier_text(text, cpu2, with_model(cpu2, MODEL_VOCODER, instances=2))
    assert "instances = 2  # measured 2026-11\n" in new
    # cpu-16's vocoder table also has an `instances` line; it keeps its value.
    assert "[tiers.cpu-16.models.vocoder]\ninstances = 5\n" in new


def test_a_missing_table_is_an_error() -> None:
    cpu2 = fixture_tier("cpu-2")
    text = FIXTURE_TIERS.read_text().replace(
        "[tiers.cpu-2.models.vocoder]", "[tiers.cpu-2.models.vocoder_x]"
    )
    with pytest.raises(TomlEditError, match="no table"):
        edit_tier_text(text, cpu2, with_model(cpu2, MODEL_VOCODER, instances=2))


def test_toml_literals_follow_the_file_style() -> None:
    assert toml_value(16_000) == "16_000"
    assert toml_value(8) == "8"
    assert toml_value(1.5) == "1.5"
    assert toml_value(True) == "true"
    assert toml_value("vocoder_int8.onnx") == '"vocoder_int8.onnx"'
