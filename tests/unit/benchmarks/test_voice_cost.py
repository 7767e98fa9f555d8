"""The voice-cost benchmark (benchmarks/system/voice_cost.py) on a tiny random Sambert voice."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from benchmarks.system import bench_voices as bv
from benchmarks.system import voice_cost as vc

# -- the whole measurement on a tiny random voice ----------------------------------------------

TINY = bv.SambertSpec("bench_tiny", "tiny Sambert", 16000, bv.DUR_BIAS_16K)
TEXTS = ["今天天气真好。", "请在听到提示音后留言，谢谢。"]


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench_voices")
    bv.ensure_voice(TINY, root, full=False)
    return root


def test_built_voice_is_reused_and_rebuilt_on_a_new_spec(tiny_root: Path) -> None:
    manifest = tiny_root / TINY.name / "voice.json"
    before = manifest.stat().st_mtime_ns
    assert bv.ensure_voice(TINY, tiny_root, full=False) == tiny_root / TINY.name
    assert manifest.stat().st_mtime_ns == before  # cached: not rebuilt
    assert TINY.digest() != bv.SambertSpec(TINY.name, "x", 16000, 1.0).digest()
    assert TINY.digest() != bv.SAMBERT_24K.digest()


def test_voice_cost_on_the_tiny_voice(tiny_root: Path, tmp_path: Path) -> None:
    report = vc.measure_voice_cost(
        specs=(TINY,), bundled=False, root=tiny_root, full=False, texts=TEXTS
    )
    (cost,) = report.voices
    assert cost.error == ""
    assert cost.sentences == 2 and cost.characters == sum(vc.characters(t) for t in TEXTS)
    assert cost.audio_s > 0 and 0 < cost.audio_s_per_char < 2
    assert cost.acoustic_gflop_per_audio_s > 0 and cost.vocoder_gflop_per_audio_s > 0
    # five Sambert files + the vocoder, each with its own figure
    assert len(cost.gflop_breakdown) == 6
    assert cost.gflop_breakdown["sambert_decoder_step.onnx"] > 0
    assert all(
        rate > 0 and math.isfinite(rate)
        for rate in (cost.acoustic_rate, cost.vocoder_rate, cost.pipeline_rate)
    )
    assert set(cost.acoustic_batched) == {"b1", "b1_cpu", f"b{vc.BATCH}", f"b{vc.BATCH}_cpu"}
    # one thread does all the work: its CPU time cannot exceed the wall time
    for stage in ("frontend", "acoustic", "vocoder"):
        wall, cpu = getattr(cost, f"{stage}_s"), getattr(cost, f"{stage}_cpu_s")
        assert 0 < cpu <= wall * 1.01 + 0.005
    assert cost.passes == vc.QUICK_PASSES
    text = vc.voice_cost_text(report)
    assert "tiny Sambert" in text and report.cpu.model in text
    json_path, csv_path = vc.write_outputs(report, tmp_path)
    assert json.loads(json_path.read_text())["voices"][0]["key"] == TINY.name
    (row,) = list(csv.DictReader(csv_path.open()))
    assert float(row["vocoder_gflop_per_audio_s"]) == pytest.approx(
        cost.vocoder_gflop_per_audio_s, rel=1e-3
    )


def test_vocoder_flops_per_audio_second_do_not_depend_on_the_sentence(tiny_root: Path) -> None:
    pipeline = vc.voice_pipeline(tiny_root / TINY.name)
    figures = [
        vc.measure_pipeline("t", "t", pipeline, [text], batched=False).vocoder_gflop_per_audio_s
        for text in TEXTS
    ]
    assert figures[0] == pytest.approx(figures[1], rel=0.1)


def test_a_failing_voice_is_reported_not_fatal(tmp_path: Path) -> None:
    broken = bv.SambertSpec("bench_broken", "broken", 12345, 1.0)  # no hifigan_v1 sizes
    report = vc.measure_voice_cost(
        specs=(broken,), bundled=False, root=tmp_path, full=False, texts=TEXTS[:1]
    )
    assert "12345" in report.voices[0].error
    assert "error" in vc.voice_cost_text(report)


def test_cpu_info_names_the_cpu() -> None:
    info = vc.cpu_info()
    assert info.cores >= 1 and info.model
    assert ("AVX-512" in info.text) and ("VNNI" in info.text)
