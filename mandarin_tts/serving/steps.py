"""What each Triton step model does, as plain Python the `model.py` adapters call.

Every step takes a batch of per-request input dicts and returns, per request, either a
dict of output arrays (with the leading batch axis of 1 Triton expects) or the exception
to send back for that request alone. A bad request never fails the rest of its batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.serving.batching import pad_sequences, plan_runs, split_padded

# Triton-only tensors (not in the ONNX files).
TF_OUT_DEBUG = "DEBUG"  # BYTES [2]: normalized text, phoneme string
VOC_OUT_SAMPLE_RATE = "sample_rate"  # INT32 [1]

# Upper bounds for direct calls to the ONNX steps (the ensemble's text limit is far below).
ACOUSTIC_MAX_SYMBOLS = c.AC_MAX_SYMBOLS
VOCODER_MAX_FRAMES = c.AC_MAX_FRAMES

Outputs = dict[str, np.ndarray]
Result = Outputs | Exception


class StepInputError(ValueError):
    """The request is malformed; the message is safe to return to the client."""


def _scale(value: np.ndarray | None, name: str, valid: tuple[float, float]) -> float:
    if value is None:
        return 1.0
    flat = np.asarray(value).reshape(-1)
    if flat.size != 1:
        raise StepInputError(f"{name} must hold one value, got {flat.size}")
    x = float(flat[0])
    if not math.isfinite(x) or not valid[0] <= x <= valid[1]:
        raise StepInputError(f"{name} must be within [{valid[0]}, {valid[1]}], got {x}")
    return x


SCALES = (
    (c.TTS_IN_SPEED, c.AC_IN_SPEED, c.SPEED_RANGE),
    (c.TTS_IN_PITCH, c.AC_IN_PITCH, c.PITCH_RANGE),
    (c.TTS_IN_ENERGY, c.AC_IN_ENERGY, c.ENERGY_RANGE),
)


class TextFrontendStep:
    """TEXT (UTF-8 bytes) + optional scales -> symbol ids, validated scales, debug strings."""

    def __init__(
        self,
        frontend: Any,
        decode: Callable[[bytes], str],
        frontend_error: type[Exception],
    ) -> None:
        self.frontend = frontend
        self.decode = decode
        self.frontend_error = frontend_error

    @classmethod
    def default(cls) -> TextFrontendStep:
        from mandarin_tts.text import TextFrontend, TextFrontendError, decode_request_text

        return cls(TextFrontend(), decode_request_text, TextFrontendError)

    def run_one(self, inputs: dict[str, np.ndarray | None]) -> Outputs:
        text_tensor = inputs.get(c.TTS_IN_TEXT)
        if text_tensor is None or np.asarray(text_tensor).size != 1:
            raise StepInputError(f"{c.TTS_IN_TEXT} must hold exactly one string")
        raw = np.asarray(text_tensor).reshape(-1)[0]
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        outputs: Outputs = {}
        for in_name, out_name, valid in SCALES:
            value = _scale(inputs.get(in_name), in_name, valid)
            outputs[out_name] = np.array([[value]], dtype=np.float32)
        try:
            result = self.frontend.encode(self.decode(bytes(raw)))
        except self.frontend_error as exc:
            raise StepInputError(str(exc)) from exc
        ids = np.asarray(result.ids, dtype=np.int64).reshape(1, -1)
        if ids.size == 0:
            raise StepInputError("the text produced no speakable symbols")
        outputs[c.AC_IN_IDS] = ids
        outputs[TF_OUT_DEBUG] = np.array(
            [[result.normalized.encode("utf-8"), result.phonemes.encode("utf-8")]], dtype=object
        )
        return outputs

    def run_batch(self, batch: Sequence[dict[str, np.ndarray | None]]) -> list[Result]:
        results: list[Result] = []
        for inputs in batch:
            try:
                results.append(self.run_one(inputs))
            except StepInputError as exc:
                results.append(exc)
        return results


@dataclass(frozen=True)
class RaggedSpec:
    """How one ONNX model's padded batch maps onto per-request tensors."""

    sequence_input: str  # per request [1, T, ...]; ONNX input [B, T_max, ...]
    lengths_input: str  # ONNX input [B] with the true T of each row
    pad_value: float
    max_length: int
    sequence_output: str  # ONNX output [B, T'_max, ...], cut per request to ...
    lengths_output: str  # ... the ONNX output [B] lengths
    trailing_shape: tuple[int, ...] = ()  # required shape after T (e.g. (80,) for mels)
    scalar_inputs: tuple[tuple[str, tuple[float, float]], ...] = ()  # per-item [B] inputs
    extra_outputs: dict[str, np.ndarray] = field(default_factory=dict)  # constant per request
    validate_sequence: Callable[[np.ndarray], None] | None = None


def _check_ids(ids: np.ndarray) -> None:
    if ids.min() < 0:
        raise StepInputError(f"{c.AC_IN_IDS} must be non-negative")


def _check_mel(mel: np.ndarray) -> None:
    if not np.isfinite(mel).all():
        raise StepInputError(f"{c.VOC_IN_MEL} holds NaN or infinite values")


ACOUSTIC_SPEC = RaggedSpec(
    sequence_input=c.AC_IN_IDS,
    lengths_input=c.AC_IN_LENGTHS,
    pad_value=c.PAD_ID,
    max_length=ACOUSTIC_MAX_SYMBOLS,
    sequence_output=c.AC_OUT_MEL,
    lengths_output=c.AC_OUT_MEL_LENGTHS,
    scalar_inputs=(
        (c.AC_IN_SPEED, c.SPEED_RANGE),
        (c.AC_IN_PITCH, c.PITCH_RANGE),
        (c.AC_IN_ENERGY, c.ENERGY_RANGE),
    ),
    validate_sequence=_check_ids,
)

VOCODER_SPEC = RaggedSpec(
    sequence_input=c.VOC_IN_MEL,
    lengths_input=c.VOC_IN_MEL_LENGTHS,
    pad_value=0.0,
    max_length=VOCODER_MAX_FRAMES,
    sequence_output=c.VOC_OUT_AUDIO,
    lengths_output=c.VOC_OUT_AUDIO_LENGTHS,
    trailing_shape=(c.N_MELS,),
    extra_outputs={
        VOC_OUT_SAMPLE_RATE: np.array([[c.OUTPUT_SAMPLE_RATE]], dtype=np.int32),
    },
    validate_sequence=_check_mel,
)

SPECS = {c.MODEL_ACOUSTIC: ACOUSTIC_SPEC, c.MODEL_VOCODER: VOCODER_SPEC}


def is_pad_safe(session: Any) -> bool:
    """False for a model built without padding masks (its ONNX metadata says so)."""
    metadata = session.get_modelmeta().custom_metadata_map
    return metadata.get(c.ONNX_META_PAD_SAFE, "true") != "false"


class OnnxBatchStep:
    """Gather a batch of ragged requests, pad, run the ONNX session once, split back.

    A session that is not padding-safe (`is_pad_safe`) runs only equal-length items
    together, whatever `max_pad_ratio` the config asks for.
    """

    def __init__(self, session: Any, spec: RaggedSpec, max_pad_ratio: float = 1e9) -> None:
        self.session = session
        self.spec = spec
        # See batching.plan_runs: a ratio of 1 means no padding at all.
        self.max_pad_ratio = max_pad_ratio if is_pad_safe(session) else 1.0

    def _prepare(self, inputs: dict[str, np.ndarray | None]) -> tuple[np.ndarray, list[float]]:
        spec = self.spec
        seq = inputs.get(spec.sequence_input)
        if seq is None:
            raise StepInputError(f"missing input {spec.sequence_input}")
        seq = np.asarray(seq)
        if seq.ndim != 2 + len(spec.trailing_shape) or seq.shape[0] != 1:
            raise StepInputError(
                f"{spec.sequence_input} must have shape [1, T{', ' if spec.trailing_shape else ''}"
                f"{', '.join(map(str, spec.trailing_shape))}], got {list(seq.shape)}"
            )
        if tuple(seq.shape[2:]) != spec.trailing_shape:
            raise StepInputError(f"{spec.sequence_input} must end in {list(spec.trailing_shape)}")
        length = seq.shape[1]
        if not 1 <= length <= spec.max_length:
            raise StepInputError(
                f"{spec.sequence_input} length must be 1..{spec.max_length}, got {length}"
            )
        if spec.validate_sequence is not None:
            spec.validate_sequence(seq)
        scalars = [_scale(inputs.get(name), name, valid) for name, valid in spec.scalar_inputs]
        return seq[0], scalars

    def _run(self, items: list[tuple[np.ndarray, list[float]]]) -> list[Outputs]:
        spec = self.spec
        padded, lengths = pad_sequences([seq for seq, _ in items], spec.pad_value)
        feeds: dict[str, np.ndarray] = {spec.sequence_input: padded, spec.lengths_input: lengths}
        for k, (name, _) in enumerate(spec.scalar_inputs):
            feeds[name] = np.array([scalars[k] for _, scalars in items], dtype=np.float32)
        out, out_lengths = self.session.run([spec.sequence_output, spec.lengths_output], feeds)
        pieces = split_padded(np.asarray(out), np.asarray(out_lengths).astype(np.int64))
        results: list[Outputs] = []
        for piece in pieces:
            outputs = {spec.sequence_output: np.ascontiguousarray(piece)[np.newaxis]}
            outputs.update(spec.extra_outputs)
            results.append(outputs)
        return results

    def run_batch(self, batch: Sequence[dict[str, np.ndarray | None]]) -> list[Result]:
        results: list[Result | None] = [None] * len(batch)
        valid: list[int] = []
        items: list[tuple[np.ndarray, list[float]]] = []
        for i, inputs in enumerate(batch):
            try:
                items.append(self._prepare(inputs))
                valid.append(i)
            except StepInputError as exc:
                results[i] = exc
        lengths = [seq.shape[0] for seq, _ in items]
        for run in plan_runs(lengths, self.max_pad_ratio) if items else []:
            indices = [valid[k] for k in run]
            try:
                for i, outputs in zip(indices, self._run([items[k] for k in run]), strict=True):
                    results[i] = outputs
            except Exception:  # noqa: BLE001 - isolate the request that broke the run
                for i, k in zip(indices, run, strict=True):
                    try:
                        results[i] = self._run([items[k]])[0]
                    except Exception as exc:  # noqa: BLE001
                        results[i] = StepInputError(f"inference failed: {exc}")
        return [r if r is not None else RuntimeError("no result") for r in results]
