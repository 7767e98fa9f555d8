"""One synthesis request from text to ordered, assembled float audio pieces."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from typing import TypeVar

import numpy as np

from frontend.assembly import Assembler, PausePlan, apply_volume
from frontend.chunking import Chunk, Pause, UnencodableText, split_text
from frontend.config import FrontendConfig
from frontend.errors import InvalidParameter, TextRejected
from frontend.retry import RetryBudget, RetryingSynthesizer, RetryPolicy
from frontend.ssml import SpeechSegment, parse_ssml
from frontend.synthesis import ChunkSynthesizer, call_in_order, synthesize_in_order
from frontend.text_cleanup import clean_user_text, public_reason
from frontend.timestamps import Timeline
from frontend.validation import VOLUME_RANGE, SynthesisRequest
from frontend.voices import VoiceCatalogue, VoiceChoice
from mandarin_tts.text.inline import visible_text

T = TypeVar("T")


async def _numbered(items: AsyncIterator[T]) -> AsyncGenerator[tuple[int, T], None]:
    """(1, first), (2, second), ..."""
    index = 0
    async for item in items:
        index += 1
        yield index, item


# Longest excerpt of a refused chunk quoted back in the error message.
QUOTE_CHARS = 40


def nothing_to_speak(original: str) -> InvalidParameter:
    """The 400 for a text with nothing speakable, saying why: no letters at all, or only
    letters of scripts the voices do not read (the cleanup drops those)."""
    letters = [ch for ch in original if ch.isalpha()]
    if not letters:
        return InvalidParameter("the text has nothing to speak (no letters, digits or characters)")
    sample = "".join(letters[:20])
    return InvalidParameter(
        f"the text has nothing this voice can speak: it reads Chinese characters, digits and "
        f"Latin letters, and skips other scripts (such as {sample!r})"
    )


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
        original = text
        text = clean_user_text(text)  # before any inline markup of ours is inserted
        chunks = self._split(text, choice)
        if not chunks:
            raise nothing_to_speak(original)
        return chunks

    def _split(self, text: str, choice: VoiceChoice) -> list[Chunk]:
        """`text` (cleaned, maybe with inline markup) in chunks; [] when nothing is speakable."""
        measured = self.catalogue.measure(choice)
        measure, max_units = measured if measured is not None else (None, 0)
        try:
            return split_text(
                text,
                self.config.chunk_max_chars,
                self.config.first_chunk_max_chars,
                measure=measure,
                max_units=max_units,
            )
        except UnencodableText as error:
            shown = visible_text(error.text)
            quoted = shown if len(shown) <= QUOTE_CHARS else shown[:QUOTE_CHARS] + "…"
            raise TextRejected(
                f"voice {choice.name!r} cannot speak {quoted!r}: {public_reason(error.reason)}"
            ) from error

    def segments(self, request: SynthesisRequest) -> list[SpeechSegment]:
        """The request's speech segments: its SSML's, or its whole text as one."""
        if request.ssml is not None:
            return parse_ssml(request.ssml, self.config.max_text_chars)
        return [SpeechSegment(clean_user_text(request.text))]

    def chunk_request(self, request: SynthesisRequest, choice: VoiceChoice) -> list[Chunk]:
        """Chunks of a request's text or SSML, each with its segment's prosody; the last chunk
        of a segment carries the segment's break, or no pause where the segment ends inside
        a sentence (blocking, like `chunk`)."""
        segments = self.segments(request)
        if any(s.pitch != 1.0 for s in segments) and "pitch" not in choice.manifest.controls:
            raise InvalidParameter(
                f"voice {choice.name!r} has no pitch control, so SSML <prosody pitch> cannot "
                "apply; leave pitch out for this voice"
            )
        chunks: list[Chunk] = []
        lead_ms = 0.0  # breaks before the first speech become leading silence
        for segment in segments:
            text = request.lexicon.apply(segment.text) if request.lexicon else segment.text
            pieces = [
                dataclasses.replace(c, prosody=segment.prosody) for c in self._split(text, choice)
            ]
            if not pieces:  # e.g. only punctuation: its break still follows what came before
                if segment.break_after_ms is not None and not chunks:
                    lead_ms += segment.break_after_ms
                elif segment.break_after_ms is not None:
                    before = chunks[-1].pause_ms or 0.0
                    chunks[-1] = dataclasses.replace(
                        chunks[-1], pause_ms=before + segment.break_after_ms
                    )
                continue
            if segment.break_after_ms is not None:
                pieces[-1] = dataclasses.replace(pieces[-1], pause_ms=segment.break_after_ms)
            elif not segment.ends_at_boundary():
                pieces[-1] = dataclasses.replace(pieces[-1], pause_after=Pause.NONE)
            if not chunks and lead_ms:
                pieces[0] = dataclasses.replace(pieces[0], lead_ms=lead_ms)
            chunks.extend(pieces)
        if not chunks:
            raise nothing_to_speak(request.text if request.ssml is None else "")
        return chunks

    def default_choice(self) -> VoiceChoice:
        manifest = self.catalogue.voices[self.catalogue.default]
        return VoiceChoice(manifest, manifest.default_speaker, manifest.default_emotion)

    async def pieces(
        self,
        request: SynthesisRequest,
        chunks: Sequence[Chunk],
        sample_rate: int,
        timeline: Timeline | None = None,
    ) -> AsyncGenerator[np.ndarray, None]:
        """Assembled audio at `sample_rate` (the voice's), one piece per chunk (its audio then
        its pause), in order; `request.params` names the checked voice. With a `timeline`,
        each chunk's characters are placed on it as its piece is laid out (timestamps)."""
        if timeline is None:
            async for piece in self._pieces(request, chunks, sample_rate):
                yield piece
        else:
            async for piece in self._timed_pieces(request, chunks, sample_rate, timeline):
                yield piece

    def _retrying(self) -> RetryingSynthesizer:
        return RetryingSynthesizer(
            self.synthesizer,
            self.retry_policy,
            RetryBudget(self.retry_policy.retry_budget_per_request),
            self.on_retry,
        )

    async def _timed_pieces(
        self,
        request: SynthesisRequest,
        chunks: Sequence[Chunk],
        sample_rate: int,
        timeline: Timeline,
    ) -> AsyncGenerator[np.ndarray, None]:
        assembler = Assembler(sample_rate, request.params.speed, self.plan)
        ordered = call_in_order(
            chunks,
            self._retrying().synthesize_aligned,
            request.params,
            window=self.config.per_request_concurrency,
            global_limit=self.global_limit,
            first_alone=self.config.first_chunk_alone,
        )
        try:
            async for index, (chunk, aligned) in _numbered(ordered):
                piece, layout = assembler.laid_out(
                    aligned.audio,
                    chunk.pause_after,
                    is_last=index == len(chunks),
                    pause_ms=chunk.pause_ms,
                    lead_ms=chunk.lead_ms,
                )
                timeline.add(chunk, aligned.alignment, layout)
                volume = min(request.volume * chunk.prosody.volume, VOLUME_RANGE[1])
                yield apply_volume(piece, volume)
        finally:
            await ordered.aclose()

    async def _pieces(
        self, request: SynthesisRequest, chunks: Sequence[Chunk], sample_rate: int
    ) -> AsyncGenerator[np.ndarray, None]:
        assembler = Assembler(sample_rate, request.params.speed, self.plan)
        ordered = synthesize_in_order(
            chunks,
            self._retrying(),
            request.params,
            window=self.config.per_request_concurrency,
            global_limit=self.global_limit,
            first_alone=self.config.first_chunk_alone,
        )
        index = 0
        try:
            async for chunk, audio in ordered:
                index += 1
                piece = assembler.piece(
                    audio,
                    chunk.pause_after,
                    is_last=index == len(chunks),
                    pause_ms=chunk.pause_ms,
                    lead_ms=chunk.lead_ms,
                )
                volume = min(request.volume * chunk.prosody.volume, VOLUME_RANGE[1])
                yield apply_volume(piece, volume)
        finally:
            await ordered.aclose()
