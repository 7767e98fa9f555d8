"""One synthesis request from text to ordered, assembled float audio pieces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence

import numpy as np

from frontend.assembly import Assembler, PausePlan, apply_volume
from frontend.chunking import Chunk, UnencodableText, split_text
from frontend.config import FrontendConfig
from frontend.errors import InvalidParameter, TextRejected
from frontend.retry import RetryBudget, RetryingSynthesizer, RetryPolicy
from frontend.synthesis import ChunkSynthesizer, synthesize_in_order
from frontend.validation import SynthesisRequest
from frontend.voices import VoiceCatalogue, VoiceChoice

# Longest excerpt of a refused chunk quoted back in the error message.
QUOTE_CHARS = 40


class TTSService:
    def __init__(
        self,
        config: FrontendConfig,
        synthesizer: ChunkSynthesizer,
        plan: PausePlan | None = None,
        on_retry: Callable[[BaseException], None] | None = None,
        catalogue: VoiceCatalogue | None = None,
    ) -> None:
        self.config = config
        self.synthesizer = synthesizer
        self.catalogue = catalogue or VoiceCatalogue.load(
            config.models_dir, config.voices_dir, config.default_voice
        )
        self.plan = plan or PausePlan()
        self.retry_policy = RetryPolicy(
            max_retries_per_chunk=config.chunk_retries,
            retry_budget_per_request=config.request_retry_budget,
            backoff_s=config.retry_backoff_s,
        )
        self.on_retry = on_retry
        self.global_limit = asyncio.Semaphore(config.global_concurrency)

    def chunk(self, text: str, choice: VoiceChoice | None = None) -> list[Chunk]:
        """Chunks of `text`, each of which `choice`'s voice encodes within its input limit
        (blocking: jieba and the voice's text frontend run here)."""
        choice = choice or self.default_choice()
        measured = self.catalogue.measure(choice)
        measure, max_units = measured if measured is not None else (None, 0)
        try:
            chunks = split_text(
                text,
                self.config.chunk_max_chars,
                self.config.first_chunk_max_chars,
                measure=measure,
                max_units=max_units,
            )
        except UnencodableText as error:
            quoted = (
                error.text if len(error.text) <= QUOTE_CHARS else error.text[:QUOTE_CHARS] + "…"
            )
            raise TextRejected(
                f"voice {choice.name!r} cannot speak {quoted!r}: {error.reason}"
            ) from error
        if not chunks:
            raise InvalidParameter(
                "the text has nothing to speak (no letters, digits or characters)"
            )
        return chunks

    def default_choice(self) -> VoiceChoice:
        manifest = self.catalogue.voices[self.catalogue.default]
        return VoiceChoice(manifest, manifest.default_speaker, manifest.default_emotion)

    async def pieces(
        self, request: SynthesisRequest, chunks: Sequence[Chunk], sample_rate: int
    ) -> AsyncGenerator[np.ndarray, None]:
        """Assembled audio at `sample_rate` (the voice's), one piece per chunk (its audio then
        its pause), in order; `request.params` names the checked voice."""
        assembler = Assembler(sample_rate, request.params.speed, self.plan)
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
