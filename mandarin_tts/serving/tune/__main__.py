"""`python -m mandarin_tts.serving.tune [--tier cpu-2] [--quick | --full] [--write] [--concurrency 8] ...`

Sweeps instance counts, onnxruntime threads and the dynamic batcher's delay for one tier on
this machine, one model at a time, each candidate on a fresh tritonserver under closed-loop
load; picks the highest audio-s/s whose p95 stays under the bound; prints the table and
writes out/tune/<tier>.json and .csv. With --write the winner goes into tiers.toml (that
tier only). docs/tuning.md explains the numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from mandarin_tts.paths import PROJECT_ROOT
from mandarin_tts.serving.tiers import (
    TIERS_FILE,
    Tier,
    default_tier,
    get_tier,
    gpu_names,
    load_tiers,
)
from mandarin_tts.serving.tune.load import eval_sentences
from mandarin_tts.serving.tune.measure import CandidateMeter, LoadSettings
from mandarin_tts.serving.tune.objective import Measurement
from mandarin_tts.serving.tune.report import describe_change, table, write_outputs
from mandarin_tts.serving.tune.search import Measure, Objective, tune
from mandarin_tts.serving.tune.space import (
    SearchSpace,
    default_space,
    restrict,
    stage_candidates,
    stages,
    with_batch_sizes,
)
from mandarin_tts.serving.tune.writer import write_tier

OUT_DIR = PROJECT_ROOT / "out" / "tune"
# quick: one short sample per candidate (~1 min each with start-up on 2 cores).
LOADS = {
    "quick": LoadSettings(seconds=20.0, min_requests=16),
    "full": LoadSettings(seconds=60.0, min_requests=48),
}


def machine_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",") if v.strip())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m mandarin_tts.serving.tune", description=__doc__)
    p.add_argument("--tier", help="tier to tune (default: the one picked for this machine)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small space, ~20 s per candidate")
    mode.add_argument("--full", action="store_true", help="the default: larger space, ~60 s each")
    p.add_argument("--write", action="store_true", help="write the winner into the tiers file")
    p.add_argument("--tiers-file", type=Path, default=TIERS_FILE)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--seconds", type=float, help="load seconds per candidate (overrides mode)")
    p.add_argument("--min-requests", type=int, help="requests per candidate at least")
    p.add_argument("--warmup-rounds", type=int, default=1, help="x concurrency requests")
    p.add_argument("--p95-max", type=float, help="p95 bound in s (default: baseline p95 x 1.1)")
    p.add_argument("--p95-slack", type=float, default=1.1)
    p.add_argument("--min-gain", type=float, default=0.0, help="e.g. 0.05: must beat +5%%")
    p.add_argument("--models", help="comma-separated step models to tune (default: all)")
    p.add_argument("--batch-sizes", type=_ints, help="also sweep max_batch_size, e.g. 4,8,16")
    p.add_argument("--threads-per-core", type=float, default=2.0, help="pruning limit")
    p.add_argument("--cores", type=int, help="size the space for N cores (default: this machine)")
    p.add_argument("--max-candidates", type=int, help="stop after this many (baseline included)")
    p.add_argument("--max-minutes", type=float, help="start no new candidate after this long")
    p.add_argument(
        "--confirm",
        type=int,
        help="re-measure baseline and winner N more times each (default: quick 0, full 1)",
    )
    p.add_argument("--plan", action="store_true", help="print the first candidates, measure none")
    p.add_argument("--out", type=Path, default=OUT_DIR)
    p.add_argument("--force", action="store_true", help="tune a tier not meant for this machine")
    return p.parse_args(argv)


def check_machine(tier: Tier, cores: int, force: bool) -> None:
    if tier.gpu and not any(tier.gpu.lower() in g.lower() for g in gpu_names()):
        message = f"tier {tier.name} is for a {tier.gpu} GPU and none is visible here"
        if not force:
            raise SystemExit(message + " (--force to measure anyway)")
        print("warning: " + message)
    if tier.cores and tier.cores != cores:
        print(f"warning: tier {tier.name} is for {tier.cores} cores; this machine has {cores}")


def build_space(args: argparse.Namespace, tier: Tier, cores: int) -> SearchSpace:
    space = default_space(tier, cores, quick=args.quick)
    space = replace(space, max_threads_per_core=args.threads_per_core)
    if args.models:
        space = restrict(space, [m.strip() for m in args.models.split(",")])
    if args.batch_sizes:
        space = with_batch_sizes(space, args.batch_sizes)
    return space


def print_plan(tier: Tier, space: SearchSpace) -> None:
    """Each stage's candidates if the baseline stayed the incumbent throughout."""
    print(f"thread limit {space.thread_limit:g} ({space.max_threads_per_core:g} x {space.cores})")
    for stage in stages(space):
        found = stage_candidates(tier, space, stage)
        print(f"{stage.label}: {len(found.tiers)} candidates")
        for t in found.tiers:
            print(f"    {describe_change(t, tier)}")
        for s in found.skipped:
            print(f"    pruned {describe_change(s.tier, tier)}: {s.reason}")


def main(argv: list[str] | None = None, measure: Measure | None = None) -> int:
    """`measure` replaces the real per-candidate servers (tests)."""
    args = parse_args(argv)
    tiers = load_tiers(args.tiers_file)
    tier = get_tier(args.tier, tiers) if args.tier else default_tier(tiers)
    cores = args.cores or machine_cores()
    space = build_space(args, tier, cores)
    if args.plan:
        print_plan(tier, space)
        return 0
    check_machine(tier, cores, args.force)

    mode = "quick" if args.quick else "full"
    load = replace(LOADS[mode], concurrency=args.concurrency, warmup_rounds=args.warmup_rounds)
    if args.seconds is not None:
        load = replace(load, seconds=args.seconds)
    if args.min_requests is not None:
        load = replace(load, min_requests=args.min_requests)
    objective = Objective(args.p95_max, args.p95_slack, args.min_gain)
    meter = measure or CandidateMeter(eval_sentences(), load, keep_logs_in=args.out / "logs")

    def progress(m: Measurement) -> None:
        r = m.result
        figures = (
            f"{r.requests} req, {r.errors} err, {r.throughput:.3f} audio-s/s, p95 {r.p95_s:.2f} s "
            f"(set-up {m.setup_s:.0f} s)"
            if r
            else f"failed: {m.error[:120]}"
        )
        print(
            f"[{m.index}] {m.stage}: {describe_change(m.tier, tier)} -> {figures} "
            f"(load average {load_average()})",
            flush=True,
        )

    started, load_before = time.time(), load_average()
    print(f"tuning tier {tier.name} on {cores} cores, {mode}, c={load.concurrency}", flush=True)
    confirm = args.confirm if args.confirm is not None else (0 if args.quick else 1)
    run = tune(
        tier,
        space,
        meter,
        objective,
        max_candidates=args.max_candidates,
        on_measured=progress,
        confirm_rounds=confirm,
        budget_s=None if args.max_minutes is None else args.max_minutes * 60,
    )
    context = {
        "tier": tier.name,
        "mode": mode,
        "cores": cores,
        "concurrency": load.concurrency,
        "load_seconds": load.seconds,
        "min_requests": load.min_requests,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "wall_s": round(time.time() - started, 1),
        "thread_limit": space.thread_limit,
        "confirm_rounds": confirm,
    }

    print(f"\n{table(run)}")
    print(
        f"p95 bound {run.bound_s:.2f} s; load average before {load_before}, after "
        f"{context['load_average_after']}; {context['wall_s']:.0f} s in all"
        + ("; stopped early (--max-candidates / --max-minutes)" if run.stopped_early else "")
    )
    if run.confirmation:
        base, challenger = run.confirmation
        print(
            f"confirmation, pooled: baseline {base.throughput:.3f} audio-s/s p95 {base.p95_s:.2f} s;"
            f" #{challenger.index} {challenger.throughput:.3f} audio-s/s p95 {challenger.p95_s:.2f} s"
        )
    winner = run.winner
    if winner is None:
        print("no candidate met the bound without errors: nothing to write")
    else:
        print(f"winner: #{winner.index} {describe_change(winner.tier, tier)}")
    # The measurements are saved before tiers.toml is touched, so a refused edit loses none.
    context["written"] = False
    json_path, csv_path = write_outputs(run, context, args.out)
    print(f"wrote {json_path} and {csv_path}")
    if args.write and winner is not None:
        written = write_tier(args.tiers_file, winner.tier)
        print(f"{args.tiers_file}: " + ("updated" if written else "already holds these values"))
        if written:
            context["written"] = True
            write_outputs(run, context, args.out)
            # The committed model_repository/ is cpu-2's render; a test compares the two.
            print(f"now re-render the served repository: make render TIER={tier.name}")
    return 0 if winner is not None else 1


if __name__ == "__main__":
    sys.exit(main())
