"""`python -m benchmarks.soak [--seconds 1800] [--interval 10] [--warmup 300]` (`make soak`)

Starts the real service as `make serve` does (launcher: tritonserver + stubs + frontend, on
free ports), sends a mix of short, long, streaming and abandoned (the client closes the
stream after its first bytes) requests to POST /v1/tts for `--seconds`, and samples RSS
and open file descriptors of every process of the tree every `--interval` s. Fails (exit 1)
when any process grew by more than 10 % after the warm-up, when a process was replaced,
or on any error other than a refusal (429/503). Writes out/soak/soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

from benchmarks.soak.growth import Sample, all_growth, growth_table
from benchmarks.system.machine import this_machine
from benchmarks.system.overload_stacks import OurStack, speed_for, tree, unique_text
from benchmarks.system.overload_stats import REFUSAL_STATUSES
from mandarin_tts.paths import EVAL_LONG, PROJECT_ROOT
from mandarin_tts.serving.tune.load import eval_sentences

OUT_DIR = PROJECT_ROOT / "out" / "soak"
# Kind -> share of the requests (short sentences, a paragraph, streamed, streamed and cut).
MIX = {"short": 0.5, "long": 0.1, "stream": 0.2, "abandon": 0.2}
ABANDON_AFTER_S = 0.3


def process_name(process: psutil.Process) -> str:
    """A stable name for a process of the service tree: launcher, frontend, tritonserver,
    stub:<model> (the model folder of the stub's model.py)."""
    args = process.cmdline()
    joined = " ".join(args)
    if "triton_python_backend_stub" in joined and len(args) > 1:
        return "stub:" + Path(args[1]).parent.parent.name
    if args and Path(args[0]).name == "tritonserver":
        return "tritonserver"
    if "-m frontend" in joined or "frontend/__main__.py" in joined:
        return "frontend"
    if "mandarin_tts.serving.launcher" in joined:
        return "launcher"
    return Path(args[0]).name if args else f"pid{process.pid}"


def snapshot(root_pid: int) -> dict[str, tuple[int, float, int]]:
    """name#n -> (pid, RSS MiB, open fds) for every process of the tree (n orders the
    instances of one model by pid)."""
    seen: Counter[str] = Counter()
    found: dict[str, tuple[int, float, int]] = {}
    for process in sorted(tree(root_pid), key=lambda p: p.pid):
        try:
            name = process_name(process)
            rss, fds = process.memory_info().rss / 2**20, process.num_fds()
        except psutil.Error:
            continue  # exited between listing and reading
        seen[name] += 1
        found[f"{name}#{seen[name]}"] = (process.pid, rss, fds)
    return found


@dataclass
class Sampler:
    root_pid: int
    interval_s: float
    t0: float
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    pids: dict[str, set[int]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            at = time.monotonic() - self.t0
            for key, (pid, rss, fds) in snapshot(self.root_pid).items():
                self.samples.setdefault(key, []).append(Sample(at, rss, fds))
                self.pids.setdefault(key, set()).add(pid)
            self.stop.wait(self.interval_s)


@dataclass
class Tally:
    by_kind: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def error(self, kind: str, what: str) -> None:
        self.errors.append(f"{kind}: {what}"[:300])


async def one_request(
    session: aiohttp.ClientSession, url: str, kind: str, text: str, index: int, tally: Tally
) -> None:
    body: dict[str, object] = {"text": unique_text(text, index), "speed": speed_for(index)}
    if kind in ("stream", "abandon"):
        body["stream"] = True
    try:
        async with session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=300)) as r:
            if r.status in REFUSAL_STATUSES:
                await r.read()
                tally.refused[kind] += 1
                return
            if r.status != 200:
                tally.error(kind, f"HTTP {r.status} {(await r.read())[:200]!r}")
                return
            if kind == "abandon":
                await r.content.readany()
                await asyncio.sleep(ABANDON_AFTER_S)
                r.close()  # drop the connection mid-stream
            else:
                audio = await r.read()
                if len(audio) <= 44:
                    tally.error(kind, f"200 with {len(audio)} bytes")
                    return
            tally.by_kind[kind] += 1
    except (aiohttp.ClientError, TimeoutError) as failure:
        tally.error(kind, repr(failure))


async def load(url: str, seconds: float, clients: int, tally: Tally, seed: int = 3) -> None:
    rng = random.Random(seed)
    short, long_text = eval_sentences(), EVAL_LONG.read_text("utf-8").strip()
    kinds, weights = list(MIX), list(MIX.values())
    counter = iter(range(10**9))
    end = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def client() -> None:
            while time.monotonic() < end:
                kind = rng.choices(kinds, weights)[0]
                index = next(counter)
                text = long_text if kind == "long" else short[index % len(short)]
                if kind == "abandon":
                    text = long_text  # a long stream, cut early: holds work it must release
                await one_request(session, url, kind, text, index, tally)

        await asyncio.gather(*(client() for _ in range(clients)))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    default_s = float(os.environ.get("SOAK_SECONDS", "1800"))
    parser.add_argument("--seconds", type=float, default=default_s, help="$SOAK_SECONDS or 1800")
    parser.add_argument("--interval", type=float, default=10.0, help="sampling period, s (10)")
    parser.add_argument(
        "--warmup", type=float, help="s excluded from growth (default: 1/6 of the run)"
    )
    parser.add_argument("--window", type=float, help="median window, s (default: 1/10 of the run)")
    parser.add_argument("--clients", type=int, default=3, help="concurrent clients (3)")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    args.warmup = args.seconds / 6 if args.warmup is None else args.warmup
    args.window = args.seconds / 10 if args.window is None else args.window
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.out.mkdir(parents=True, exist_ok=True)
    machine = this_machine()
    print(f"machine: {machine.describe()}; soak {args.seconds:.0f} s", flush=True)
    stack = OurStack("ours", args.out / "soak_service.log")
    tally = Tally()
    try:
        stack.start()
        sampler = Sampler(stack.pid, args.interval, time.monotonic())
        thread = threading.Thread(target=sampler.run, name="soak-sampler", daemon=True)
        thread.start()
        asyncio.run(load(stack.url(), args.seconds, args.clients, tally))
        sampler.stop.set()
        thread.join(timeout=30)
        asyncio.run(load(stack.url(), 1, 1, after := Tally()))  # still serving afterwards
    finally:
        stack.stop()
    rows, unjudged = all_growth(sampler.samples, args.warmup, args.window)
    replaced = {k: sorted(p) for k, p in sampler.pids.items() if len(p) > 1}
    failures = [f"{g.process} grew" for g in rows if g.failed] + unjudged
    failures += [f"{k} was replaced (pids {p})" for k, p in replaced.items()]
    failures += [f"{len(tally.errors)} errors other than refusals"] if tally.errors else []
    failures += ["no request served after the soak"] if not after.by_kind else []
    print(growth_table(rows))
    print(
        f"served {dict(tally.by_kind)}, refused {dict(tally.refused)}, errors {len(tally.errors)}"
        + (f" e.g. {tally.errors[:3]}" if tally.errors else "")
    )
    print("soak: " + ("FAILED: " + "; ".join(failures) if failures else "passed"))
    report = {
        "machine": machine.to_dict(),
        "seconds": args.seconds,
        "interval_s": args.interval,
        "warmup_s": args.warmup,
        "window_s": args.window,
        "clients": args.clients,
        "mix": MIX,
        "served": dict(tally.by_kind),
        "refused": dict(tally.refused),
        "errors": tally.errors[:50],
        "error_count": len(tally.errors),
        "replaced": replaced,
        "growth": [g.to_dict() for g in rows],
        "samples": {k: [s.__dict__ for s in v] for k, v in sampler.samples.items()},
        "failures": failures,
    }
    path = args.out / "soak.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"wrote {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
