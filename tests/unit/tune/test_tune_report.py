from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

from tune_helpers import FIXTURE_TIERS, fixture_tier

from mandarin_tts.contract import MODEL_VOCODER
from mandarin_tts.serving.tiers import TIERS_FILE, load_tiers
from mandarin_tts.serving.tune.__main__ import main
from mandarin_tts.serving.tune.objective import Measurement
from mandarin_tts.serving.tune.report import describe_change, table, write_outputs
from mandarin_tts.serving.tune.search import TuneRun
from mandarin_tts.serving.tune.space import with_model
from mandarin_tts.serving.tune.stats import LevelResult

CPU2 = fixture_tier("cpu-2")


def _run() -> TuneRun:
    faster = with_model(CPU2, MODEL_VOCODER, instances=2, intra_op_threads=1)
    results = [
        LevelResult(8, 20, 0, 10.0, 20.0, 2.0, 4.0, 4.5),
        LevelResult(8, 24, 0, 10.0, 25.0, 1.8, 4.2, 4.6),
    ]
    run = TuneRun(CPU2, bound_s=4.4)
    run.measurements = [
        Measurement(0, "baseline", CPU2, results[0], 700.0, 30.0),
        Measurement(1, "vocoder/compute", faster, results[1], 900.0, 31.0),
        Measurement(2, "vocoder/queue", faster, None, error="ServerError: no"),
    ]
    run.winner = run.measurements[1]
    return run


def test_describe_change_names_only_the_differences() -> None:
    assert describe_change(CPU2, CPU2) == "(baseline values)"
    tier = with_model(CPU2, MODEL_VOCODER, instances=2, max_queue_delay_us=16_000)
    assert describe_change(tier, CPU2) == "voc.inst=2 voc.delay_us=16000"


def test_table_marks_winner_feasibility_and_failures() -> None:
    lines = table(_run()).splitlines()
    assert lines[2].split()[:2] == ["0", "baseline"] and lines[2].endswith("y")
    assert "1.25" in lines[3] and lines[3].endswith("*")
    assert "failed: ServerError" in lines[4]


def test_json_and_csv_hold_every_candidate(tmp_path: Path) -> None:
    json_path, csv_path = write_outputs(_run(), {"tier": "cpu-2"}, tmp_path)
    report = json.loads(json_path.read_text())
    assert report["winner_index"] == 1 and report["p95_bound_s"] == 4.4
    assert [c["index"] for c in report["candidates"]] == [0, 1, 2]
    assert report["candidates"][1]["settings"][MODEL_VOCODER]["instances"] == 2
    assert report["candidates"][1]["vs_baseline"] == 1.25
    assert report["candidates"][2]["result"] is None
    assert report["winner_settings"][MODEL_VOCODER]["intra_op_threads"] == 1
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 3 and rows[1]["voc.instances"] == "2"
    assert math.isclose(float(rows[0]["throughput"]), 2.0)


def test_plan_lists_candidates_without_measuring(capsys) -> None:
    assert main(["--tier", "cpu-2", "--quick", "--plan"]) == 0
    out = capsys.readouterr().out
    # The space depends on this machine's cores; its stages and a vocoder setting do not.
    assert "thread limit" in out
    assert "vocoder/compute" in out and "text_frontend/queue" in out
    assert "voc.delay_us=16000" in out  # quick: twice the committed 8 ms


def test_write_updates_only_a_copy_of_the_tiers_file(tmp_path: Path, capsys) -> None:
    real = TIERS_FILE.read_bytes()
    tiers_file = tmp_path / "tiers.toml"
    shutil.copy(FIXTURE_TIERS, tiers_file)

    def measure(index: int, stage: str, tier) -> Measurement:
        # Made-up figures: one vocoder thread is faster, everything else equal.
        fast = tier.models[MODEL_VOCODER].intra_op_threads == 1
        audio = 30.0 if fast else 20.0
        return Measurement(index, stage, tier, LevelResult(8, 20, 0, 10.0, audio, 2, 4, 4))

    args = ["--tier", "cpu-2", "--quick", "--cores", "2", "--write"]
    args += ["--tiers-file", str(tiers_file), "--out", str(tmp_path / "out")]
    assert main(args, measure=measure) == 0
    assert "make render TIER=cpu-2" in capsys.readouterr().out
    assert load_tiers(tiers_file)["cpu-2"].models[MODEL_VOCODER].intra_op_threads == 1
    report = json.loads((tmp_path / "out" / "cpu-2.json").read_text())
    assert report["written"] is True and report["winner_index"] == 1
    assert TIERS_FILE.read_bytes() == real
