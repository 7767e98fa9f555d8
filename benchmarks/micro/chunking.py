"""Chunked fan-out vs one request at a time, on the long eval text: first-audio latency and
total time, measured through the frontend's own service code against a real Triton.

    python -m benchmarks.micro.chunking [--triton-grpc HOST:PORT] [--text FILE] [--sizes 30,50] [--only-defaults]

Without --triton-grpc a tritonserver is started on free ports (committed cpu-2 repository)
and stopped at the end.  Every run uses its own SPEED (1.0 + k/1000) so Triton's response
cache cannot answer from an earlier run (1.0 + k * 1e-6).

"Whole text as one request" cannot be sent: one Triton request carries at most
contract.TEXT_MAX_CHARS characters whose symbols must fit contract.AC_MAX_SYMBOLS.  The run
tries it and reports the server's answer; the baseline is then the next closest thing:
the largest chunks the model accepts, sent one after another (no fan-out).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from frontend.chunking import HARD_MAX_CHARS
from frontend.config import FrontendConfig
from frontend.encoding import AudioFormat
from frontend.errors import ApiError
from frontend.service import TTSService
from frontend.synthesis import VoiceParams
from frontend.triton_client import TritonSynthesizer
from frontend.validation import SynthesisRequest
from mandarin_tts import contract
from mandarin_tts.paths import EVAL_LONG

DEFAULT_TEXT = EVAL_LONG
# Speeds 1.0 + k * 1e-6 from a random start: distinct per run and per process (the response
# cache outlives this process), and close enough to 1.0 not to change the audio length.
_speeds = itertools.count(secrets.randbelow(10_000) + 1)


@dataclass(frozen=True)
class Strategy:
    name: str
    chunk_max_chars: int
    first_chunk_max_chars: int
    window: int
    first_alone: bool = False


@dataclass(frozen=True)
class Measurement:
    strategy: Strategy
    chunks: int
    first_audio_s: float
    total_s: float
    audio_s: float


async def measure(url: str, text: str, strategy: Strategy) -> Measurement:
    config = FrontendConfig(
        chunk_max_chars=strategy.chunk_max_chars,
        first_chunk_max_chars=strategy.first_chunk_max_chars,
        per_request_concurrency=strategy.window,
        global_concurrency=max(strategy.window, 1),
        first_chunk_alone=strategy.first_alone,
    )
    synthesizer = TritonSynthesizer(url, timeout_s=900)
    try:
        service = TTSService(config, synthesizer)
        speed = 1.0 + next(_speeds) * 1e-6  # defeats the response cache
        request = SynthesisRequest(text, VoiceParams(speed=speed), 1.0, AudioFormat.WAV, True)
        chunks = service.chunk(text)
        start = time.monotonic()
        first = None
        samples = 0
        async for piece in service.pieces(request, chunks, contract.OUTPUT_SAMPLE_RATE):
            first = first if first is not None else time.monotonic() - start
            samples += piece.size
        total = time.monotonic() - start
    finally:
        await synthesizer.close()
    return Measurement(
        strategy, len(chunks), first or total, total, samples / contract.OUTPUT_SAMPLE_RATE
    )


async def try_whole_text(url: str, text: str) -> str:
    synthesizer = TritonSynthesizer(url, timeout_s=600)
    start = time.monotonic()
    try:
        audio = await synthesizer.synthesize(text, VoiceParams(speed=1.0 + next(_speeds) * 1e-6))
        return f"accepted: {audio.size / contract.OUTPUT_SAMPLE_RATE:.1f} s audio in {time.monotonic() - start:.2f} s"
    except ApiError as error:
        return f"refused ({error.code}): {error.message[:160]}"
    finally:
        await synthesizer.close()


def strategies(sizes: list[int], window: int) -> list[Strategy]:
    out = [Strategy(f"fan-out, chunks <= {n}", n, n, window) for n in sizes]
    out.append(Strategy("fan-out, <= 50, first <= 15 sent alone", 50, 15, window, True))
    d = FrontendConfig()
    out.append(
        Strategy(
            f"defaults: <= {d.chunk_max_chars}, first <= {d.first_chunk_max_chars}"
            + (" alone" if d.first_chunk_alone else ""),
            d.chunk_max_chars,
            d.first_chunk_max_chars,
            d.per_request_concurrency,
            d.first_chunk_alone,
        )
    )
    out.append(
        Strategy(f"one at a time, chunks <= {HARD_MAX_CHARS}", HARD_MAX_CHARS, HARD_MAX_CHARS, 1)
    )
    return out


async def run(url: str, text: str, sizes: list[int], window: int, only_defaults: bool) -> None:
    print(f"text: {len(text)} characters; Triton gRPC {url}")
    print(f"whole text as one Triton request: {await try_whole_text(url, text)}")
    # One warm-up so model sessions and the gRPC channel are hot for every strategy alike.
    await measure(url, text[:60], Strategy("warm-up", 30, 30, window))
    print(
        f"{'strategy':40s} {'chunks':>6s} {'first audio s':>13s} {'total s':>8s} {'audio s':>8s} {'RTF':>6s}"
    )
    chosen = strategies(sizes, window)
    for strategy in chosen[-2:-1] if only_defaults else chosen:
        m = await measure(url, text, strategy)
        print(
            f"{strategy.name:40s} {m.chunks:6d} {m.first_audio_s:13.2f} {m.total_s:8.2f} "
            f"{m.audio_s:8.1f} {m.total_s / m.audio_s:6.3f}"
        )
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--triton-grpc", help="a running server; default: start one")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--sizes", default="30,50", help="chunk_max_chars values")
    parser.add_argument("--only-defaults", action="store_true", help="measure the defaults only")
    parser.add_argument("--window", type=int, default=FrontendConfig().per_request_concurrency)
    args = parser.parse_args(argv)
    text = args.text.read_text(encoding="utf-8").strip()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with contextlib.ExitStack() as stack:
        url = args.triton_grpc
        if url is None:
            from mandarin_tts.serving.ephemeral import ephemeral_triton
            from mandarin_tts.serving.render import COMMITTED_REPOSITORY

            server = ephemeral_triton(COMMITTED_REPOSITORY, admin_key=secrets.token_hex(8))
            url = stack.enter_context(server).grpc_url
        asyncio.run(run(url, text, sizes, args.window, args.only_defaults))


if __name__ == "__main__":
    main()
