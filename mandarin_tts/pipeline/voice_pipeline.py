"""A voice's three stages composed once, built from its manifest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from mandarin_tts.contract import MODEL_ACOUSTIC
from mandarin_tts.pipeline.components import (
    AcousticModel,
    AcousticRequest,
    ItemResult,
    Vocoder,
)
from mandarin_tts.serving.ort_session import DISABLED_OPTIMIZERS, OrtSettings, make_session
from mandarin_tts.serving.peer_activity import PeerActivity
from mandarin_tts.voices.manifest import FAMILY_FASTSPEECH2, FAMILY_SAMBERT, VoiceManifest
from mandarin_tts.voices.text_frontends import (
    VoiceTextFrontend,
    check_choice,
    load_text_frontend,
)


@dataclass(frozen=True)
class StageOptions:
    """How one stage's ONNX files run (a tier's settings, or the benchmarks' choice)."""

    settings: OrtSettings = OrtSettings(intra_op_threads=2)
    onnx_file: str | None = None  # a file of the voice to serve instead of the role's own
    max_pad_ratio: float = 1e9
    # With `peers` (Triton instances of one model), runs that start while another instance
    # is busy use a second session with this many threads (0: one session only).
    busy_intra_op_threads: int = 0
    peers: PeerActivity | None = None


def _session(manifest: VoiceManifest, path: Path, settings: OrtSettings) -> Any:
    # TensorRT engines take minutes to build: cache them beside the voice's files.
    trt_cache = manifest.directory / "trt_cache" if settings.provider == "tensorrt" else None
    return make_session(path, settings, trt_cache)


def _file(manifest: VoiceManifest, role: str, options: StageOptions) -> Path:
    if options.onnx_file and options.onnx_file in manifest.files.values():
        return manifest.directory / options.onnx_file
    return manifest.path(role)


def load_acoustic(manifest: VoiceManifest, options: StageOptions | None = None) -> AcousticModel:
    options = options or StageOptions()
    if manifest.family == FAMILY_FASTSPEECH2:
        from mandarin_tts.pipeline.fastspeech2 import FastSpeech2Acoustic

        settings = replace(
            options.settings, disabled_optimizers=DISABLED_OPTIMIZERS.get(MODEL_ACOUSTIC, ())
        )
        session = _session(manifest, _file(manifest, "acoustic", options), settings)
        return FastSpeech2Acoustic(session, options.max_pad_ratio)
    if manifest.family == FAMILY_SAMBERT:
        from mandarin_tts.pipeline.sambert import SambertAcoustic

        return SambertAcoustic(manifest, options.settings)
    raise ValueError(f"voice {manifest.name}: unknown family {manifest.family!r}")


def load_vocoder(manifest: VoiceManifest, options: StageOptions | None = None) -> Vocoder:
    from mandarin_tts.pipeline.vocoders import OnnxVocoder, SharedCores

    options = options or StageOptions()
    path = _file(manifest, "vocoder", options)
    session = _session(manifest, path, options.settings)
    shared = None
    if options.peers and options.busy_intra_op_threads:  # the tier checked the thread count
        busy = replace(options.settings, intra_op_threads=options.busy_intra_op_threads)
        shared = SharedCores(_session(manifest, path, busy), options.peers)
    n_mels = int(manifest.extra.get("n_mels", 80))
    return OnnxVocoder(session, manifest.sample_rate, n_mels, options.max_pad_ratio, shared)


def _unwrap(result: ItemResult) -> np.ndarray:
    if isinstance(result, Exception):
        raise result
    return result


class VoicePipeline:
    """text -> units (the voice's text frontend) -> mel (acoustic) -> audio (vocoder)."""

    def __init__(
        self,
        manifest: VoiceManifest,
        text: VoiceTextFrontend,
        acoustic: AcousticModel,
        vocoder: Vocoder,
    ) -> None:
        self.manifest = manifest
        self.text = text
        self.acoustic = acoustic
        self.vocoder = vocoder
        self.sample_rate = vocoder.sample_rate

    @classmethod
    def load(
        cls,
        manifest: VoiceManifest,
        acoustic: StageOptions | None = None,
        vocoder: StageOptions | None = None,
    ) -> VoicePipeline:
        return cls(
            manifest,
            load_text_frontend(manifest),
            load_acoustic(manifest, acoustic),
            load_vocoder(manifest, vocoder),
        )

    def request(
        self,
        text: str,
        speed: float = 1.0,
        pitch: float = 1.0,
        energy: float = 1.0,
        speaker: str | None = None,
        emotion: str | None = None,
    ) -> AcousticRequest:
        encoded = self.text.encode(
            text,
            check_choice(self.manifest, "speaker", speaker),
            check_choice(self.manifest, "emotion", emotion),
        )
        return AcousticRequest(encoded.tensors, speed, pitch, energy)

    def mels(self, requests: Sequence[AcousticRequest]) -> list[np.ndarray]:
        return [_unwrap(r) for r in self.acoustic.run_batch(requests)]

    def audio(self, mels: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [_unwrap(r) for r in self.vocoder.run_batch(mels)]

    def synthesize_batch(self, requests: Sequence[AcousticRequest]) -> list[np.ndarray]:
        return self.audio(self.mels(requests))

    def synthesize(self, text: str, **controls: float | str | None) -> np.ndarray:
        """One text -> float32 audio at `sample_rate` (controls: speed, pitch, energy,
        speaker, emotion)."""
        return self.synthesize_batch([self.request(text, **controls)])[0]  # type: ignore[arg-type]
