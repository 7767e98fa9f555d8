"""Vocoder variants on CPU: `python -m loadtest.bench_vocoder_variants [--variants float,qdq-pc]`.

For the float vocoder and each int8 variant (mandarin_tts/vocoder/quantize.py) it prints
  * vocoder-only speed in audio-seconds per second, batch 1 and 4, 1 and 2 threads, on
    real acoustic mels of the evaluation sentences (best of --repeats, runs interleaved
    across variants so background load hits them alike);
  * the end-to-end ASR pinyin error on the evaluation sentences: our frontend + acoustic
    ONNX + that vocoder, scored with the intelligibility benchmark's Whisper + pinyin code;
  * PASS/FAIL against the CPU-tier rule: error <= float error + 0.5 points.
`--ort-options` also times the float model under other onnxruntime session settings.
Int8 variants are quantized on first use into .cache/vocoder_variants/<digest>/.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from loadtest import _synthesis as synth
from loadtest.bench_intelligibility import read_sentences
from mandarin_tts import contract as c
from mandarin_tts.eval.pinyin_error import ErrorCount, pinyin_errors
from mandarin_tts.eval.whisper_asr import WhisperTranscriber
from mandarin_tts.paths import (
    ACOUSTIC_ONNX,
    CACHE_DIR,
    EVAL_LONG,
    EVAL_SENTENCES,
    VOCODER_INT8_ONNX,
    VOCODER_ONNX,
)
from mandarin_tts.vocoder.bridge import SAMPLES_PER_ACOUSTIC_FRAME

FLOAT = "float"
RULE_POINTS = 0.5  # a CPU tier may trade at most this much pinyin error for speed
VARIANT_DIR = CACHE_DIR / "vocoder_variants"


@dataclass(frozen=True)
class SessionSetup:
    threads: int = 2
    optimization: str = "all"  # basic | extended | all
    parallel: bool = False  # ORT_PARALLEL execution (inter-op threads = threads)
    disable_nhwc: bool = False  # keep int8 convs in NCHW (no layout transposes)

    @property
    def label(self) -> str:
        extra = (" parallel" if self.parallel else "") + (" no-nhwc" if self.disable_nhwc else "")
        return f"{self.threads} thr, opt {self.optimization}{extra}"


def make_session(path: Path, setup: SessionSetup) -> Any:
    import onnxruntime as ort

    levels = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    options = ort.SessionOptions()
    options.graph_optimization_level = levels[setup.optimization]
    options.intra_op_num_threads = setup.threads
    options.inter_op_num_threads = setup.threads if setup.parallel else 1
    options.execution_mode = (
        ort.ExecutionMode.ORT_PARALLEL if setup.parallel else ort.ExecutionMode.ORT_SEQUENTIAL
    )
    if setup.disable_nhwc:
        options.add_session_config_entry(
            "optimization.disable_specified_optimizers", "NhwcTransformer"
        )
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


# --- variants ------------------------------------------------------------------------------


def variant_path(name: str, calibration_mels: list[np.ndarray] | None = None) -> Path:
    """The ONNX file of a variant, quantizing it (once per float build) if needed."""
    if name == FLOAT:
        return VOCODER_ONNX
    from mandarin_tts.build.__main__ import inputs_digest
    from mandarin_tts.vocoder.calibration_data import acoustic_mels
    from mandarin_tts.vocoder.calibration_text import CALIBRATION_SENTENCES
    from mandarin_tts.vocoder.quantize import VARIANTS, quantize_unmasked

    # Keyed by the float build and the variant's settings, so adding a variant (or a
    # rebuild of something else) does not requantize the others.
    variant = VARIANTS[name]
    folder = VARIANT_DIR / inputs_digest()[:16]
    path = folder / f"{name}-{_short_hash(repr(variant))}.onnx"
    if not path.exists():
        mels = calibration_mels if calibration_mels is not None else acoustic_mels(ACOUSTIC_ONNX)
        # Variants sharing method, op types and graph share one calibration pass.
        graph = "polyphase" if variant.polyphase else "convtranspose"
        calibration = (variant.calibration, variant.op_types, graph, CALIBRATION_SENTENCES)
        cache = folder / f"calibration-{_short_hash(repr(calibration))}.json"
        start = time.monotonic()
        quantize_unmasked(path, mels, variant, cache)
        print(f"quantized {name} -> {path} ({time.monotonic() - start:.0f} s)")
    return path


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


# --- speed ---------------------------------------------------------------------------------


def batches(mels: Sequence[np.ndarray], size: int) -> list[dict[str, np.ndarray]]:
    """Length-sorted groups of `size` mels, zero-padded, as vocoder feeds."""
    ordered = sorted(mels, key=len)
    feeds: list[dict[str, np.ndarray]] = []
    for start in range(0, len(ordered), size):
        group = ordered[start : start + size]
        lengths = np.array([len(m) for m in group], np.int64)
        padded = np.zeros((len(group), lengths.max(), c.N_MELS), np.float32)
        for row, mel in enumerate(group):
            padded[row, : len(mel)] = mel
        feeds.append({c.VOC_IN_MEL: padded, c.VOC_IN_MEL_LENGTHS: lengths})
    return feeds


def audio_seconds(mels: Sequence[np.ndarray]) -> float:
    return sum(len(m) for m in mels) * SAMPLES_PER_ACOUSTIC_FRAME / c.OUTPUT_SAMPLE_RATE


def time_feeds(session: Any, feeds: list[dict[str, np.ndarray]]) -> float:
    start = time.perf_counter()
    for feed in feeds:
        session.run([c.VOC_OUT_AUDIO], feed)
    return time.perf_counter() - start


def speed_table(
    paths: dict[str, Path],
    setups: Sequence[SessionSetup],
    batch_sizes: Sequence[int],
    mels: list[np.ndarray],
    repeats: int,
) -> dict[tuple[str, SessionSetup, int], float]:
    """Audio-seconds per second for every (variant, setup, batch), best of `repeats`."""
    seconds = audio_seconds(mels)
    results: dict[tuple[str, SessionSetup, int], float] = {}
    for setup in setups:
        sessions = {name: make_session(path, setup) for name, path in paths.items()}
        for batch in batch_sizes:
            feeds = batches(mels, batch)
            for session in sessions.values():  # warm-up (allocations, first-run costs)
                time_feeds(session, feeds[:1])
            best = dict.fromkeys(sessions, float("inf"))
            for _ in range(repeats):  # interleaved so background load hits all alike
                for name, session in sessions.items():
                    best[name] = min(best[name], time_feeds(session, feeds))
            for name in sessions:
                results[(name, setup, batch)] = seconds / best[name]
                print(
                    f"  {name:<20} {setup.label:<28} batch {batch}: "
                    f"{seconds / best[name]:6.2f} audio-s/s"
                )
    return results


# --- quality ----------------------------------------------------------------------------------

LOG_MEL_RANGE = 8.0  # nats (~70 dB) below the loudest bin: quieter bins are floored


def log_mel_distance(path: Path, reference: Path, mels: Sequence[np.ndarray]) -> float:
    """Mean |log-mel(variant) - log-mel(reference)| over `mels`, floored (a cheap proxy)."""
    from mandarin_tts.vocoder.mel import vocoder_mel

    variant, float_model = synth.OnnxVocoder(path), synth.OnnxVocoder(reference)
    distances = []
    for mel in mels:
        expected = vocoder_mel(float_model(mel))
        floor = expected.max() - LOG_MEL_RANGE
        got = vocoder_mel(variant(mel))
        distances.append(np.abs(np.maximum(got, floor) - np.maximum(expected, floor)).mean())
    return float(np.mean(distances))


# --- intelligibility -------------------------------------------------------------------------


def pipeline_mels(sentences: Sequence[str]) -> list[np.ndarray]:
    """Our frontend + acoustic ONNX, as the intelligibility benchmark's system (a) runs them."""
    _, ids_of = synth.symbol_ids_function()
    acoustic = synth.OnnxAcoustic()
    return [acoustic(ids_of(sentence)) for sentence in sentences]


def asr_error(
    path: Path,
    sentences: Sequence[str],
    mels: Sequence[np.ndarray],
    asr: WhisperTranscriber,
    verbose: bool,
) -> ErrorCount:
    vocoder = synth.OnnxVocoder(path)
    total = ErrorCount(0, 0)
    for sentence, mel in zip(sentences, mels, strict=True):
        heard = asr.transcribe(vocoder(mel))
        count = pinyin_errors(sentence, heard)
        total = total + count
        if verbose and count.errors:
            print(f"    {count.errors}/{count.reference_syllables}  {sentence} -> {heard}")
    return total


# --- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    from mandarin_tts.vocoder.quantize import DEFAULT_VARIANT, VARIANTS

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--variants",
        default=f"{FLOAT},{DEFAULT_VARIANT},qdq-pc,qop-pc-ends-float",
        help="comma-separated names, or 'all' (each int8 variant adds ~3 min of ASR)",
    )
    parser.add_argument("--sentences", type=Path, default=EVAL_SENTENCES)
    parser.add_argument(
        "--long-text",
        default=str(EVAL_LONG),
        help="also score this text, cut into the HTTP frontend's default chunks "
        "('' to skip); the rule is then applied to both sets together",
    )
    parser.add_argument("--speed-sentences", type=int, default=4, help="first N for timing")
    parser.add_argument("--proxy-sentences", type=int, default=8, help="first N for log-mel")
    parser.add_argument("--repeats", type=int, default=2, help="timing passes (best kept)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch-sizes", default="1,4")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-asr", action="store_true")
    parser.add_argument("--no-proxy", action="store_true", help="skip the log-mel distance")
    parser.add_argument("--no-nhwc", action="store_true", help="also time int8 without NHWC")
    parser.add_argument("--ort-options", action="store_true", help="float under ORT settings")
    parser.add_argument("--verbose", action="store_true", help="print misheard sentences")
    args = parser.parse_args(argv)

    names = [FLOAT, *VARIANTS] if args.variants == "all" else args.variants.split(",")
    names = [n for n in names if n]
    unknown = [n for n in names if n != FLOAT and n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {FLOAT}, {', '.join(VARIANTS)}")
    if not (ACOUSTIC_ONNX.exists() and VOCODER_ONNX.exists()):
        parser.error("models not built: python -m mandarin_tts.build")
    print(
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other jobs share this machine)"
    )
    print(f"build's int8 file: {VOCODER_INT8_ONNX} (variant {DEFAULT_VARIANT})")
    sentences = read_sentences(args.sentences)
    mels = pipeline_mels(sentences)
    paths = {name: variant_path(name) for name in names}

    if not args.no_speed:
        speed_mels = mels[: args.speed_sentences]
        print(
            f"\nVocoder-only speed, {audio_seconds(speed_mels):.1f} s of audio "
            f"({len(speed_mels)} sentences), best of {args.repeats}:"
        )
        threads = [int(t) for t in args.threads.split(",")]
        setups = [SessionSetup(threads=t) for t in threads]
        sizes = [int(b) for b in args.batch_sizes.split(",")]
        speed_table(paths, setups, sizes, speed_mels, args.repeats)
        if args.no_nhwc:
            int8 = {n: p for n, p in paths.items() if n != FLOAT}
            nchw = [replace(s, disable_nhwc=True) for s in setups]
            speed_table(int8, nchw, sizes[:1], speed_mels, args.repeats)
        if args.ort_options:
            float_only = {FLOAT: paths[FLOAT]} if FLOAT in paths else {FLOAT: VOCODER_ONNX}
            options = [
                SessionSetup(threads=t, optimization=level)
                for t in threads
                for level in ("basic", "extended")
            ] + [SessionSetup(threads=2, parallel=True)]
            speed_table(float_only, options, sizes[:1], speed_mels, args.repeats)

    if not args.no_proxy:
        proxy_mels = mels[: args.proxy_sentences]
        print(f"\nLog-mel distance to float ({len(proxy_mels)} sentences, nats, floored):")
        for name, path in paths.items():
            if name != FLOAT:
                print(f"  {name:<20} {log_mel_distance(path, VOCODER_ONNX, proxy_mels):.3f}")

    if not args.no_asr:
        sets = [(str(args.sentences), sentences, mels)]
        if args.long_text and Path(args.long_text).is_file():
            chunks = long_text_chunks(Path(args.long_text))
            sets.append((f"{args.long_text} ({len(chunks)} chunks)", chunks, pipeline_mels(chunks)))
        asr = WhisperTranscriber()
        ordered = [FLOAT, *[n for n in names if n != FLOAT]]
        counts = {
            name: [
                asr_error(paths.get(name) or variant_path(name), texts, set_mels, asr, args.verbose)
                for _, texts, set_mels in sets
            ]
            for name in ordered
        }
        for k, (label, _, _) in enumerate(sets):
            print(f"\nASR pinyin error, {label}:")
            print_asr_rows({name: per_set[k] for name, per_set in counts.items()})
        if len(sets) > 1:
            print("\nASR pinyin error, both sets together (the rule applies here):")
            totals = {}
            for name, per_set in counts.items():
                total = ErrorCount(0, 0)
                for count in per_set:
                    total = total + count
                totals[name] = total
            print_asr_rows(totals)
    return 0


def long_text_chunks(path: Path) -> list[str]:
    """The text as the HTTP frontend would send it to Triton (its default chunking)."""
    from frontend.chunking import split_text

    return [chunk.text for chunk in split_text(path.read_text(encoding="utf-8"))]


def print_asr_rows(counts: dict[str, ErrorCount]) -> None:
    for name, total in counts.items():
        verdict = ""
        if name != FLOAT:
            delta = (total.rate - counts[FLOAT].rate) * 100
            verdict = f"  {delta:+.2f} pt  {'PASS' if delta <= RULE_POINTS else 'FAIL'}"
        print(
            f"  {name:<36} {total.rate:6.2%} ({total.errors}/{total.reference_syllables}){verdict}",
            flush=True,
        )


if __name__ == "__main__":
    raise SystemExit(main())
