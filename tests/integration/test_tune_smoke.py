"""Smoke test of `python -m mandarin_tts.serving.tune`: two candidates on real tritonservers, tiny load.

It checks plumbing (render, start, load, table, JSON/CSV, baseline first), not speed.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
from pathlib import Path

import pytest

from mandarin_tts.serving.tiers import TIERS_FILE, load_tiers
from mandarin_tts.serving.tune.__main__ import main
from mandarin_tts.voices.registry import MODELS_DIR_ENV

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def models() -> None:
    if not os.environ.get(MODELS_DIR_ENV):
        from mandarin_tts.build.__main__ import build

        build()  # no-op when the stamped models are current


def test_two_candidates_give_a_table_and_real_numbers(models, tmp_path: Path, capsys) -> None:
    tiers_file = tmp_path / "tiers.toml"
    shutil.copy(TIERS_FILE, tiers_file)
    out = tmp_path / "out"
    args = ["--tier", "cpu-2", "--quick", "--tiers-file", str(tiers_file), "--out", str(out)]
    args += ["--max-candidates", "2", "--concurrency", "1", "--seconds", "0"]
    args += ["--min-requests", "2", "--warmup-rounds", "0"]

    assert main(args) == 0

    printed = capsys.readouterr().out
    assert "audio-s/s" in printed and "winner: #" in printed
    report = json.loads((out / "cpu-2.json").read_text())
    candidates = report["candidates"]
    assert len(candidates) == 2
    baseline = load_tiers(tiers_file)["cpu-2"]
    assert candidates[0]["stage"] == "baseline"
    assert candidates[0]["change"] == "(baseline values)"
    assert candidates[0]["settings"]["vocoder"]["instances"] == baseline.models["vocoder"].instances
    assert candidates[1]["change"] != "(baseline values)"
    for candidate in candidates:
        result = candidate["result"]
        assert candidate["error"] == ""
        assert result["requests"] >= 2 and result["errors"] == 0
        assert result["audio_s"] > 0 and 0 < result["p50_s"] <= result["p95_s"]
        assert math.isfinite(candidate["throughput"]) and candidate["throughput"] > 0
        assert candidate["peak_memory_mb"] > 100  # server + three stubs really ran
    assert report["winner_index"] in (0, 1)
    assert math.isclose(report["p95_bound_s"], candidates[0]["p95_s"] * 1.1)
    assert report["written"] is False
    assert tiers_file.read_bytes() == TIERS_FILE.read_bytes()  # no --write, no change
    assert len(list(csv.DictReader((out / "cpu-2.csv").open()))) == 2
