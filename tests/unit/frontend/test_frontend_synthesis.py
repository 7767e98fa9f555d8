"""Fan-out: order, bounded concurrency per request and across requests, cancellation."""

from __future__ import annotations

import asyncio

import pytest
from frontend_helpers import FakeSynthesizer

from frontend.chunking import Chunk, Pause
from frontend.errors import TextRejected
from frontend.synthesis import VoiceParams, synthesize_in_order


def _chunks(n: int) -> list[Chunk]:
    return [Chunk("字" * (i + 1), Pause.CLAUSE) for i in range(n)]


async def _collect(chunks, synth, window, limit):
    return [
        c
        async for c in synthesize_in_order(
            chunks, synth, VoiceParams(), window=window, global_limit=limit
        )
    ]


def test_results_come_back_in_text_order() -> None:
    synth = FakeSynthesizer()
    chunks = _chunks(12)
    results = asyncio.run(_collect(chunks, synth, 4, asyncio.Semaphore(100)))
    assert [c for c, _ in results] == chunks
    assert [a.size for _, a in results] == [synth.length_of(c.text) for c in chunks]
    assert synth.peak == 4  # the window is kept full


def test_global_limit_bounds_calls_across_requests() -> None:
    synth = FakeSynthesizer()

    async def main() -> None:
        limit = asyncio.Semaphore(3)
        await asyncio.gather(*(_collect(_chunks(6), synth, 4, limit) for _ in range(4)))

    asyncio.run(main())
    assert synth.peak == 3 and len(synth.calls) == 24


def test_error_cancels_the_rest() -> None:
    synth = FakeSynthesizer(delay_s=0.05)
    chunks = _chunks(3) + [Chunk("BAD", Pause.SENTENCE)] + _chunks(20)

    async def main() -> list:
        got = []
        with pytest.raises(TextRejected):
            async for item in synthesize_in_order(
                chunks, synth, VoiceParams(), window=4, global_limit=asyncio.Semaphore(10)
            ):
                got.append(item)
        await asyncio.sleep(0.2)
        return got

    got = asyncio.run(main())
    assert len(got) == 3
    assert len(synth.calls) <= 3 + 1 + 4  # nothing far beyond the window was started
    assert synth.running == 0


def test_slow_reader_bounds_work_ahead() -> None:
    synth = FakeSynthesizer(delay_s=0.001)

    async def main() -> None:
        agen = synthesize_in_order(
            _chunks(30), synth, VoiceParams(), window=5, global_limit=asyncio.Semaphore(10)
        )
        await anext(agen)
        await asyncio.sleep(0.1)  # a reader that stalls
        assert len(synth.calls) <= 1 + 5
        await agen.aclose()

    asyncio.run(main())


def test_first_alone_sends_the_first_chunk_by_itself() -> None:
    synth = FakeSynthesizer()

    async def main() -> None:
        agen = synthesize_in_order(
            _chunks(6),
            synth,
            VoiceParams(),
            window=4,
            global_limit=asyncio.Semaphore(10),
            first_alone=True,
        )
        await asyncio.sleep(0.005)
        first = await anext(agen)
        assert first[0].text == "字" and synth.peak == 1  # nothing ran beside the first chunk
        rest = [c async for c in agen]
        assert len(rest) == 5 and synth.peak == 4

    asyncio.run(main())


def test_cli_parses_every_config_field() -> None:
    from frontend.__main__ import parse_args

    config = parse_args(["--port", "9000", "--no-first-chunk-alone", "--triton-timeout-s", "12.5"])
    assert config.port == 9000 and config.triton_timeout_s == 12.5
    assert config.first_chunk_alone is False
    assert parse_args([]).first_chunk_alone is True
