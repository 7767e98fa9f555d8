"""`python -m benchmarks.system --scenario overload [--level-seconds 60] [--multiples 1,2,3]`

Overload side by side (docs/bench.md, "Overload"): measure this machine's capacity on our
stack closed-loop, then send open-loop Poisson arrivals at 1x, 2x, 3x that rate for
`--level-seconds` each, to our stack (launcher: Triton + `python -m frontend`, POST /v1/tts)
and to the seeds' Flask app under gunicorn, at the same rates and the same texts. Prints
one table and the 3x target, writes out/bench/overload.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from benchmarks.system.machine import this_machine
from benchmarks.system.overload_stacks import (
    GUNICORN_PIN,
    GunicornFlask,
    OurStack,
    Stack,
    gunicorn_available,
    reset_peaks,
    tree_peak_mb,
)
from benchmarks.system.overload_stats import (
    SLO_S,
    LevelStats,
    Outcome,
    keep_target,
    level_stats,
    overload_table,
    poisson_schedule,
)
from mandarin_tts.paths import PROJECT_ROOT
from mandarin_tts.serving.tune.load import eval_sentences

OUT_DIR = PROJECT_ROOT / "out" / "bench"
# The backlog has drained when one sentence is answered within this many times (or 3 s
# more than) what it took on the idle stack after the warm-up.
IDLE_FACTOR, IDLE_SLACK_S = 2.0, 3.0


async def closed_loop(
    stack: Stack, texts: Sequence[str], concurrency: int, seconds: float, timeout_s: float
) -> tuple[float, float]:
    """`concurrency` clients back to back for `seconds`: (requests/s, audio-s/s) accepted."""
    counter = itertools.count()
    outcomes: list[Outcome] = []
    start = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def client() -> None:
            while time.monotonic() - start < seconds:
                index = next(counter)
                text = texts[index % len(texts)]
                outcomes.append(await stack.request(session, text, timeout_s, start))

        await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.monotonic() - start
    accepted = [o for o in outcomes if o.accepted]
    return len(accepted) / elapsed, sum(o.audio_s for o in accepted) / elapsed


async def open_loop(
    stack: Stack, texts: Sequence[str], offsets: Sequence[float], timeout_s: float, first: int
) -> list[Outcome]:
    """One request at each offset (s), whatever the earlier ones take."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        start = time.monotonic()
        tasks = []
        for number, offset in enumerate(offsets):
            await asyncio.sleep(max(0.0, start + offset - time.monotonic()))
            index = first + number
            text = texts[index % len(texts)]
            tasks.append(asyncio.create_task(stack.request(session, text, timeout_s, start)))
        return list(await asyncio.gather(*tasks))


async def one_latency(stack: Stack, text: str, timeout_s: float) -> float:
    """Seconds one request takes on the idle stack."""
    async with aiohttp.ClientSession() as session:
        return (await stack.request(session, text, timeout_s, time.monotonic())).latency_s


async def wait_idle(stack: Stack, text: str, limit_s: float, idle_s: float) -> float:
    """Until one short request is answered within `idle_s` (the last level's backlog is
    gone); returns the seconds waited."""
    start = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while time.monotonic() - start < limit_s:
            outcome = await stack.request(session, text, limit_s, start)
            if outcome.accepted and outcome.latency_s <= idle_s:
                break
            await asyncio.sleep(1.0)
    return time.monotonic() - start


def run_stack(
    stack: Stack,
    args: argparse.Namespace,
    texts: Sequence[str],
    rate_per_s: float | None,
) -> tuple[dict[str, object], list[LevelStats]]:
    """Start, warm, measure closed-loop capacity, then each open-loop level; always stop."""
    info: dict[str, object] = {"system": stack.name, "settings": {}}
    levels: list[LevelStats] = []
    try:
        print(f"== {stack.name}: starting", flush=True)
        stack.start()
        info["settings"] = stack.settings()
        asyncio.run(closed_loop(stack, texts, args.concurrency, args.warmup_seconds, 60))
        alone = asyncio.run(one_latency(stack, texts[0], args.client_timeout))
        idle_s = max(IDLE_FACTOR * alone, alone + IDLE_SLACK_S)
        info["single_request_s"] = alone
        rps, audio = asyncio.run(
            closed_loop(stack, texts, args.concurrency, args.capacity_seconds, args.client_timeout)
        )
        info["capacity_req_per_s"], info["capacity_audio_s_per_s"] = rps, audio
        print(f"  closed loop c={args.concurrency}: {rps:.2f} req/s, {audio:.2f} audio-s/s")
        rate = rate_per_s if rate_per_s is not None else rps
        for number, multiple in enumerate(args.multiples):
            waited = asyncio.run(wait_idle(stack, texts[0], args.drain_limit, idle_s))
            reset_peaks(stack.pid)
            offsets = poisson_schedule(multiple * rate, args.level_seconds, seed=number + 1)
            outcomes = asyncio.run(
                open_loop(stack, texts, offsets, args.client_timeout, first=number * 1000)
            )
            stats = level_stats(
                stack.name,
                multiple,
                multiple * rate,
                args.level_seconds,
                outcomes,
                tree_peak_mb(stack.pid),
                args.slo,
            )
            levels.append(stats)
            print(
                f"  {multiple:g}x ({stats.rate_per_s:.2f} req/s, drained {waited:.0f} s before):"
                f" goodput {stats.goodput:.2f}, ok {stats.accepted}, refused {stats.refused},"
                f" errors {stats.errors} {list(stats.error_examples)}",
                flush=True,
            )
    except Exception as error:  # noqa: BLE001 - the report says which system failed and why
        info["error"] = f"{type(error).__name__}: {error}"[:300]
        print(f"  {stack.name} failed: {info['error']} (log: {stack.log_path})", flush=True)
    finally:
        stack.stop()
    return info, levels


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.system --scenario overload", description=__doc__
    )
    parser.add_argument("--level-seconds", type=float, default=60.0, help="arrival window (60)")
    parser.add_argument("--multiples", default="1,2,3", help="of the capacity (1,2,3)")
    parser.add_argument("--capacity-seconds", type=float, default=30.0)
    parser.add_argument("--warmup-seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop clients (8)")
    parser.add_argument("--slo", type=float, default=SLO_S, help="seconds (10)")
    parser.add_argument("--client-timeout", type=float, default=60.0)
    parser.add_argument("--drain-limit", type=float, default=180.0)
    parser.add_argument("--systems", default="ours,flask", help="ours,flask")
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--gunicorn-workers",
        type=int,
        default=2 * cores + 1,
        help=f"sync workers; default gunicorn's documented (2 x cores) + 1 = {2 * cores + 1}",
    )
    parser.add_argument("--gunicorn-threads", type=int, default=1)
    parser.add_argument("--gunicorn-timeout", type=int, default=120)
    parser.add_argument("--ort-threads", type=int, default=1, help="onnxruntime threads/worker")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    args.multiples = [float(m) for m in args.multiples.split(",")]
    args.systems = args.systems.split(",")
    if 1.0 not in args.multiples:
        parser.error("--multiples must include 1 (the target compares against it)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (timeout, Ctrl-C in make) unwinds through run_stack's `finally`: no orphans.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.out.mkdir(parents=True, exist_ok=True)
    texts = eval_sentences()
    machine = this_machine()
    print(f"machine: {machine.describe()}", flush=True)
    started = time.time()
    infos: list[dict[str, object]] = []
    levels: list[LevelStats] = []
    rate: float | None = None
    if "ours" in args.systems:
        info, own = run_stack(OurStack("ours", args.out / "overload_ours.log"), args, texts, None)
        infos.append(info)
        levels += own
        capacity = info.get("capacity_req_per_s")
        rate = float(capacity) if isinstance(capacity, float) and capacity > 0 else None
    if "flask" in args.systems:
        flask = GunicornFlask(
            "flask+gunicorn",
            args.out / "overload_flask.log",
            workers=args.gunicorn_workers,
            threads=args.gunicorn_threads,
            ort_threads=args.ort_threads,
            timeout_s=args.gunicorn_timeout,
        )
        if not gunicorn_available():
            infos.append({"system": flask.name, "error": f"not installed: {GUNICORN_PIN}"})
            print(f"== {flask.name}: skipped, gunicorn is not installed ({GUNICORN_PIN})")
        else:
            info, theirs = run_stack(flask, args, texts, rate)
            infos.append(info)
            levels += theirs

    print(
        f"\nmachine: {machine.describe()}; {args.level_seconds:g} s per level, SLO {args.slo:g} s;"
        f" rates are multiples of our closed-loop capacity; {time.time() - started:.0f} s in all"
    )
    print(overload_table(levels))
    print("(goodput: audio-s/s answered whole within the SLO; ref: refusal latency, 429/503)")
    target = keep_target(levels, "ours")
    print("target: " + (target.text() if target else "not measured (ours did not run 1x and 3x)"))
    report = {
        "machine": machine.to_dict(),
        "level_seconds": args.level_seconds,
        "slo_s": args.slo,
        "multiples": args.multiples,
        "systems": infos,
        "levels": [s.to_dict() for s in levels],
        "target": target.__dict__ if target else None,
    }
    path = args.out / "overload.json"
    path.write_text(json.dumps(report, indent=2, allow_nan=True))
    print(f"wrote {path}")
    return 0 if all("error" not in i for i in infos) else 1
