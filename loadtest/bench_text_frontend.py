"""Text frontend throughput (characters per second) on /work/shared/eval/long_zh.txt.

The paragraph is longer than one request may be, so it is split at sentence/clause
punctuation into request-sized pieces (as the HTTP frontend does) and each piece is
encoded separately. Single-threaded, after warm-up; prints measured figures only.

    .venv/bin/python loadtest/bench_text_frontend.py [--text FILE] [--repeat N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from mandarin_tts.text import TextFrontend
from mandarin_tts.text.g2p import clear_reading_cache
from mandarin_tts.text.normalize import normalize_text

DEFAULT_TEXT = Path("/work/shared/eval/long_zh.txt")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--repeat", type=int, default=20)
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


if __name__ == "__main__":
    main()
