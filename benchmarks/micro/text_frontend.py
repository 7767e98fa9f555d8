"""Text frontend throughput (characters per second) on the shared eval long_zh.txt.

The paragraph is longer than one request may be, so it is split at sentence/clause
punctuation into request-sized pieces (as the HTTP frontend does) and each piece is
encoded separately. Single-threaded, after warm-up; prints measured figures only.

    .venv/bin/python -m benchmarks.micro.text_frontend [--text FILE] [--repeat N] [--no-models]

When the built ONNX models exist (`make models`), it also runs the acoustic model and the
vocoder once over the same requests (2 threads) and prints the frontend's share of the
total synthesis time.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from mandarin_tts import contract
from mandarin_tts.paths import ACOUSTIC_ONNX, EVAL_LONG, VOCODER_ONNX
from mandarin_tts.text import TextFrontend
from mandarin_tts.text.g2p import clear_reading_cache
from mandarin_tts.text.normalize import normalize_text

DEFAULT_TEXT = EVAL_LONG
PIECE_CHARS = 50  # about what the HTTP frontend sends per request


def split_requests(text: str, max_chars: int = PIECE_CHARS) -> list[str]:
    """Greedy: whole clauses (ending in punctuation) packed up to max_chars."""
    clauses = [c for c in re.findall(r"[^，。！？；：、]+[，。！？；：、]?", text.strip()) if c]
    pieces: list[str] = []
    current = ""
    for clause in clauses:
        if current and len(current) + len(clause) > max_chars:
            pieces.append(current)
            current = ""
        current += clause
    if current:
        pieces.append(current)
    return pieces


def model_times(frontend: TextFrontend, pieces: list[str]) -> tuple[float, float, float]:
    """(acoustic s, vocoder s, audio s) for one pass over the requests."""
    from benchmarks._synthesis import OnnxAcoustic, OnnxVocoder

    acoustic, vocoder = OnnxAcoustic(), OnnxVocoder()
    acoustic(frontend.encode(pieces[0]).ids)  # warm-up
    acoustic_s = vocoder_s = audio_s = 0.0
    for piece in pieces:
        ids = frontend.encode(piece).ids
        t = time.perf_counter()
        mel = acoustic(ids)
        acoustic_s += time.perf_counter() - t
        t = time.perf_counter()
        audio = vocoder(mel)
        vocoder_s += time.perf_counter() - t
        audio_s += len(audio) / contract.OUTPUT_SAMPLE_RATE
    return acoustic_s, vocoder_s, audio_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-models", action="store_true", help="skip the share-of-synthesis part")
    args = parser.parse_args()

    text = args.text.read_text(encoding="utf-8").strip()
    pieces = split_requests(text)
    n_chars = sum(len(p) for p in pieces)

    t0 = time.perf_counter()
    frontend = TextFrontend()
    init_s = time.perf_counter() - t0

    for piece in pieces:  # warm-up: caches, lazily loaded pypinyin data
        frontend.encode(piece)

    full_s, cold_s, norm_s = [], [], []
    n_symbols = 0
    for _ in range(args.repeat):
        clear_reading_cache()
        t = time.perf_counter()
        n_symbols = sum(len(frontend.encode(p).ids) for p in pieces)
        cold_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        for piece in pieces:
            frontend.encode(piece)
        full_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        for piece in pieces:
            normalize_text(piece)
        norm_s.append(time.perf_counter() - t)

    full, cold, norm = (statistics.median(x) for x in (full_s, cold_s, norm_s))
    print(f"text: {args.text} ({len(text)} chars) -> {len(pieces)} requests, {n_symbols} symbols")
    print(f"TextFrontend() init: {init_s:.2f} s (jieba dictionary + pypinyin data)")
    print(
        f"encode, reading cache empty: {cold * 1e3:.1f} ms median of {args.repeat} "
        f"-> {n_chars / cold:,.0f} chars/s, {cold / len(pieces) * 1e3:.2f} ms per request"
    )
    print(
        f"encode, words seen before:   {full * 1e3:.1f} ms "
        f"-> {n_chars / full:,.0f} chars/s, {full / len(pieces) * 1e3:.2f} ms per request"
    )
    print(f"  normalization only: {norm * 1e3:.1f} ms ({norm / cold:.0%} of uncached encode)")

    if args.no_models or not (ACOUSTIC_ONNX.exists() and VOCODER_ONNX.exists()):
        print("models not built (or --no-models): share of synthesis time not measured")
        return
    acoustic_s, vocoder_s, audio_s = model_times(frontend, pieces)
    total = cold + acoustic_s + vocoder_s
    print(
        f"audio: {audio_s:.1f} s; acoustic ONNX {acoustic_s:.2f} s (RTF {acoustic_s / audio_s:.3f}), "
        f"vocoder ONNX {vocoder_s:.2f} s (RTF {vocoder_s / audio_s:.3f}), 2 threads"
    )
    print(
        f"frontend (uncached): RTF {cold / audio_s:.4f}, {cold / total:.2%} of total synthesis time"
    )


if __name__ == "__main__":
    main()
