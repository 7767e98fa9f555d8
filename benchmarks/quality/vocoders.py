"""Speech quality by vocoder file: the same texts, frontend and acoustic model, in process.

    python -m benchmarks.quality.vocoders [--split test] [--limit 60] [--paragraphs 0]
        [--vocoders float=.cache/models/vocoder.onnx,avx2=.cache/models/vocoder_int8_avx2.onnx]
        [--no-dnsmos] [--out out/quality-vocoders]

`make quality` serves whatever vocoder this CPU's tier picks (serving/int8_support.py);
this compares vocoder files directly, so the int8 serving rule (PER within +0.3 points,
DNSMOS OVRL within 0.05 of float) can be checked for a file before it is served. Each
text goes through the bundled voice's frontend and acoustic model and the named vocoder
(one sentence at a time, a paragraph sentence by sentence joined by the direct path's
pause), then Whisper base (PER, CER) and DNSMOS, as `make quality` scores. Writes
<out>/<split>.md and <split>.json; wavs under <out>/wav/<split>/<name>/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.quality.__main__ import cpu_model, score_all, select, synthesize_all
from benchmarks.quality.systems import DIRECT_SENTENCE_PAUSE_S, join_with_pauses, sentences_of
from mandarin_tts.eval.evalset import SPLITS, load_split
from mandarin_tts.eval.scoring import DNSMOS_KEYS, summarize
from mandarin_tts.paths import PROJECT_ROOT, VOCODER_INT8_AVX2_ONNX, VOCODER_ONNX

DEFAULT_OUT = PROJECT_ROOT / "out" / "quality-vocoders"
DEFAULT_VOCODERS = f"float={VOCODER_ONNX},avx2={VOCODER_INT8_AVX2_ONNX}"


def parse_vocoders(spec: str) -> dict[str, Path]:
    """'name=path,name=path' -> {name: path}; every file must exist."""
    vocoders: dict[str, Path] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, sep, path = part.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--vocoders entry {part!r}: write NAME=PATH")
        if not Path(path).is_file():
            raise ValueError(f"--vocoders {name}: no file {path} (run make models?)")
        vocoders[name] = Path(path)
    if not vocoders:
        raise ValueError("--vocoders: name at least one NAME=PATH")
    return vocoders


def synthesizer(vocoder: Path, threads: int = 2) -> Callable[[str], np.ndarray]:
    """text -> 16 kHz audio: the bundled voice with `vocoder` in place of its vocoder."""
    from mandarin_tts.pipeline import VoicePipeline
    from mandarin_tts.pipeline.voice_pipeline import StageOptions
    from mandarin_tts.serving.ort_session import OrtSettings
    from mandarin_tts.voices.registry import BUNDLED_VOICE, load_voice

    manifest = load_voice(BUNDLED_VOICE)
    relative = os.path.relpath(vocoder.resolve(), manifest.directory.resolve())
    manifest = replace(manifest, files={**manifest.files, "vocoder": relative})
    options = StageOptions(OrtSettings(intra_op_threads=threads))
    pipeline = VoicePipeline.load(manifest, acoustic=options, vocoder=options)

    def synthesize(text: str) -> np.ndarray:
        parts = [pipeline.synthesize(sentence) for sentence in sentences_of(text)]
        return join_with_pauses(parts, DIRECT_SENTENCE_PAUSE_S)

    return synthesize


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=SPLITS, default="test")
    parser.add_argument("--limit", type=int, help="at most N sentences, round-robin")
    parser.add_argument("--paragraphs", type=int, default=0)
    parser.add_argument("--vocoders", default=DEFAULT_VOCODERS)
    parser.add_argument("--no-dnsmos", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    try:
        vocoders = parse_vocoders(args.vocoders)
    except ValueError as error:
        parser.error(str(error))
    items = select(load_split(args.split), args.limit, args.paragraphs)
    if not items:
        parser.error("the selection is empty")
    from mandarin_tts.eval.whisper_asr import WhisperTranscriber

    transcribe = WhisperTranscriber().transcribe
    summaries, per_item = {}, {}
    for name, path in vocoders.items():
        began = time.monotonic()
        audio = synthesize_all(name, synthesizer(path), items, args.out / "wav" / args.split / name)
        scores = score_all(name, items, audio, transcribe, not args.no_dnsmos)
        summaries[name] = summarize(name, scores)
        per_item[name] = [s.item_id for s in scores]
        print(f"{name}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    first = next(iter(summaries.values()))
    lines = [
        f"{args.split}: {len(items)} texts; CPU {cpu_model()}",
        "",
        "| vocoder | file | PER | CER | OVRL | SIG | BAK | P.808 | PER - first | OVRL - first |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    nan = float("nan")
    for name, s in summaries.items():
        mos = [s.mos.get(k, nan) for k in DNSMOS_KEYS]
        ovrl_gain = s.mos.get("ovrl", nan) - first.mos.get("ovrl", nan)
        lines.append(
            f"| {name} | {vocoders[name].name} | {100 * s.per:.2f} % | {100 * s.chars.rate:.2f} % | "
            + " | ".join(f"{m:.3f}" for m in mos)
            + f" | {100 * (s.per - first.per):+.2f} pt"
            f" | {ovrl_gain:+.3f} |"
        )
    markdown = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.split}.md").write_text(markdown, encoding="utf-8")
    data = {
        name: {"per": s.per, "cer": s.chars.rate, "mos": s.mos, "items": per_item[name]}
        for name, s in summaries.items()
    }
    (args.out / f"{args.split}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
