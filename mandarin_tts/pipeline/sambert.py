"""The Sambert family's acoustic model: KAN-TTS units -> mel, over the exported ONNX files.

The runner steps the autoregressive duration predictor and PNCA decoder for the whole
batch at once; a batch's results equal the same items alone, so items are not grouped
by length. An item the model rejects fails alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mandarin_tts import contract as c
from mandarin_tts.pipeline.components import AcousticRequest, InvalidItem, ItemResult
from mandarin_tts.pipeline.ragged import run_isolated
from mandarin_tts.sambert import tensors as sambert_tensors
from mandarin_tts.serving.ort_session import OrtSettings, make_session
from mandarin_tts.voices.manifest import VoiceManifest

# Manifest file roles of the five Sambert ONNX files, in the runner's order: the file
# names' stems (sambert_encoder, ...).
SAMBERT_ROLES = tuple(Path(name).stem for name in sambert_tensors.ALL_FILES)


class SambertAcoustic:
    def __init__(self, manifest: VoiceManifest, settings: OrtSettings) -> None:
        from mandarin_tts.sambert.runner import SambertOnnxRunner

        encoder, duration, regulate, decoder, postnet = (manifest.path(r) for r in SAMBERT_ROLES)
        self.runner = SambertOnnxRunner(
            encoder,
            duration,
            regulate,
            decoder,
            postnet,
            session_factory=lambda path: make_session(path, settings),
        )
        self.n_mels = self.runner.meta.num_mels

    def _item(self, request: AcousticRequest) -> object:
        from mandarin_tts.sambert.framing import SambertItem, validate_item

        item = SambertItem(
            ling=request.tensors[c.AC_IN_UNITS],
            emotion=request.tensors[c.AC_IN_EMOTION_IDS],
            speaker=request.tensors[c.AC_IN_SPEAKER_IDS],
            speed=request.speed,
        )
        try:
            validate_item(item, self.runner.meta.vocab, self.runner.meta.max_units)
        except ValueError as exc:
            raise InvalidItem(str(exc)) from exc
        return item

    def run_batch(self, requests: Sequence[AcousticRequest]) -> list[ItemResult]:
        results: list[ItemResult | None] = [None] * len(requests)
        items: list[Any] = []
        where: list[int] = []
        for i, request in enumerate(requests):
            try:
                items.append(self._item(request))
                where.append(i)
            except InvalidItem as exc:
                results[i] = exc
        lengths = [len(request.tensors[c.AC_IN_UNITS]) for request in requests]
        run = self.runner.run_batch
        outputs = run_isolated(
            items, lambda batch: run(list(batch)), [lengths[i] for i in where], 1e9
        )
        for i, out in zip(where, outputs, strict=True):
            results[i] = out
        return [r if r is not None else ValueError("no result") for r in results]
