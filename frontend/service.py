"""One synthesis request from text to ordered, assembled float audio pieces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence

import numpy as np

from frontend.assembly import Assembler, PausePlan, apply_volume
from frontend.chunking import Chunk, split_text
from frontend.config import FrontendConfig
from frontend.errors import InvalidParameter
from frontend.retry import RetryBudget, RetryingSynthesizer, RetryPolicy
from frontend.synthesis import ChunkSynthesizer, synthesize_in_order
from frontend.validation import SynthesisRequest


class TTSService:
    def __init__(
        self,
        config: FrontendConfig,
        synthesizer: ChunkSynthesizer,
        plan: PausePlan | None = None,
        on_retry: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.config = config
        self.synthesizer = synthesizer
        self.plan = plan or PausePlan()
        self.retry_policy = RetryPolicy(
            max_retries_per_chunk=config.chunk_retries,
            retry_budget_per_request=config.request_retry_budget,
            backoff_s=config.retry_backoff_s,
        )
        self.on_retry = on_retry
        self.global_limit = asyncio.Semaphore(config.global_concurrency)

    @property
    def sample_rate(self) -> int:
        return self.synthesizer.sample_rate

    def chunk(self, text: str) -> list[Chunk]:
        chunks = split_text(text, self.config.chunk_max_chars, self.config.first_chunk_max_chars)
        if not chunks:
            raise InvalidParameter(
                "the text has nothing to speak (no letters, digits or characters)"
            )
        return chunks

    async def pieces(
        self, request: SynthesisRequest, chunks: Sequence[Chunk]
    ) -> AsyncGenerator[np.ndarray, None]:
        """Assembled audio, one piece per chunk (its audio then its pause), in order."""
        assembler = Assembler(self.sample_rate, request.params.speed, self.plan)
        retrying = RetryingSynthesizer(
            self.synthesizer,
            self.retry_policy,
            RetryBudget(self.retry_policy.retry_budget_per_request),
            self.on_retry,
        )
        ordered = synthesize_in_order(
            chunks,
            retrying,
            request.params,
            window=self.config.per_request_concurrency,
            global_limit=self.global_limit,
            first_alone=self.config.first_chunk_alone,
        )
        index = 0
        try:
            async for chunk, audio in ordered:
                index += 1
                piece = assembler.piece(audio, chunk.pause_after, is_last=index == len(chunks))
                yield apply_volume(piece, request.volume)
        finally:
            await ordered.aclose()
