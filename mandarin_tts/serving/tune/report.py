"""The tuning table and out/tune/<tier>.json / .csv."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from mandarin_tts.contract import MODEL_ACOUSTIC, MODEL_TEXT_FRONTEND, MODEL_VOCODER
from mandarin_tts.serving.tiers import Tier
from mandarin_tts.serving.tune.objective import Measurement, feasible, gain
from mandarin_tts.serving.tune.search import TuneRun
from mandarin_tts.serving.tune.space import ModelAxes

SHORT_MODEL = {MODEL_TEXT_FRONTEND: "tf", MODEL_ACOUSTIC: "ac", MODEL_VOCODER: "voc"}
SHORT_FIELD = {
    "instances": "inst",
    "intra_op_threads": "intra",
    "inter_op_threads": "inter",
    "max_queue_delay_us": "delay_us",
    "max_batch_size": "batch",
}
SWEPT_FIELDS = tuple(f.name for f in fields(ModelAxes))


def swept_settings(tier: Tier) -> dict[str, dict[str, Any]]:
    return {
        model: {name: getattr(m, name) for name in SWEPT_FIELDS}
        for model, m in sorted(tier.models.items())
    }


def describe_change(tier: Tier, baseline: Tier) -> str:
    """`voc.inst=2 voc.intra=1`: the swept settings that differ from the baseline."""
    parts = [
        f"{SHORT_MODEL.get(model, model)}.{SHORT_FIELD.get(name, name)}={value}"
        for model, values in swept_settings(tier).items()
        for name, value in values.items()
        if getattr(baseline.models[model], name) != value
    ]
    return " ".join(parts) or "(baseline values)"


def _f(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def table(run: TuneRun) -> str:
    baseline = run.measurements[0]
    head = (
        f"{'#':>2} {'stage':<22} {'settings (vs baseline)':<34} {'req':>4} {'err':>3} "
        f"{'audio-s/s':>9} {'p50 s':>6} {'p95 s':>6} {'x base':>6} {'MB':>6} ok"
    )
    lines = [head, "-" * len(head)]
    for m in run.measurements:
        r = m.result
        mark = "*" if run.winner is m else ("y" if feasible(m, run.bound_s) else "n")
        lines.append(
            f"{m.index:>2} {m.stage:<22} {describe_change(m.tier, baseline.tier):<34} "
            f"{r.requests if r else 0:>4} {r.errors if r else 0:>3} {_f(m.throughput, 3):>9} "
            f"{_f(r.p50_s if r else math.nan):>6} {_f(m.p95_s):>6} "
            f"{_f(gain(m, baseline)):>6} {_f(m.peak_memory_mb, 0):>6} {mark}"
            + (f"  failed: {m.error[:80]}" if m.error else "")
        )
    return "\n".join(lines)


def measurement_dict(m: Measurement, run: TuneRun) -> dict[str, Any]:
    return {
        "index": m.index,
        "stage": m.stage,
        "change": describe_change(m.tier, run.baseline),
        "settings": swept_settings(m.tier),
        "result": m.result.to_dict() if m.result else None,
        "throughput": m.throughput,
        "p95_s": m.p95_s,
        "vs_baseline": gain(m, run.measurements[0]),
        "feasible": feasible(m, run.bound_s),
        "peak_memory_mb": m.peak_memory_mb,
        "setup_s": m.setup_s,
        "error": m.error,
    }


def report_dict(run: TuneRun, context: dict[str, Any]) -> dict[str, Any]:
    winner = run.winner
    return {
        **context,
        "p95_bound_s": run.bound_s,
        "stopped_early": run.stopped_early,
        "winner_index": winner.index if winner else None,
        "winner_settings": {m: asdict(v) for m, v in winner.tier.models.items()}
        if winner
        else None,
        "confirmation": {
            "baseline": measurement_dict(run.confirmation[0], run),
            "winner": measurement_dict(run.confirmation[1], run),
        }
        if run.confirmation
        else None,
        "candidates": [measurement_dict(m, run) for m in run.measurements],
        "skipped": [
            {"stage": stage, "change": describe_change(s.tier, run.baseline), "reason": s.reason}
            for stage, s in run.skipped
        ],
    }


def csv_rows(run: TuneRun) -> list[dict[str, Any]]:
    rows = []
    for m in run.measurements:
        d = measurement_dict(m, run)
        flat = {
            f"{SHORT_MODEL.get(model, model)}.{name}": value
            for model, values in d.pop("settings").items()
            for name, value in values.items()
        }
        result = d.pop("result") or {}
        rows.append({**d, **flat, **{k: v for k, v in result.items() if k != "throughput"}})
    return rows


def write_outputs(run: TuneRun, context: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    name = run.baseline.name
    json_path, csv_path = out_dir / f"{name}.json", out_dir / f"{name}.csv"
    json_path.write_text(json.dumps(report_dict(run, context), indent=2, allow_nan=True))
    rows = csv_rows(run)
    fieldnames = list(dict.fromkeys(k for row in rows for k in row))
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    return json_path, csv_path
