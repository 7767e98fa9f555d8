"""What each Triton step model does, as plain Python the `model.py` adapter calls.

Every step takes a batch of per-request input dicts and returns, per request, either a
dict of output arrays (with the leading batch axis of 1 Triton expects) or the exception
to send back for that request alone. A bad request never fails the rest of its batch:
`StepInputError` is the client's fault (INVALID_ARG, its message is for the client);
any other exception is internal (INTERNAL, details only in the server log).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.pipeline.components import (
    AcousticModel,
    AcousticRequest,
    AlignedAcousticModel,
    InvalidItem,
    Vocoder,
)
from mandarin_tts.serving.step_io import (
    ACOUSTIC_SEQUENCES,
    CHOICES,
    MAX_FRAMES,
    MAX_UNITS,
    SCALES,
    SequenceTensor,
    has_alignment,
)
from mandarin_tts.voices.manifest import VoiceManifest
from mandarin_tts.voices.text_frontends import VoiceInputError, VoiceTextFrontend, check_choice

if TYPE_CHECKING:
    from mandarin_tts.text.alignment import SymbolAlignment

log = logging.getLogger(__name__)

Inputs = dict[str, np.ndarray | None]
Outputs = dict[str, np.ndarray]
Result = Outputs | Exception


class StepInputError(ValueError):
    """The request is malformed; the message is safe to return to the client."""


class StepInternalError(RuntimeError):
    """The step failed on a valid request (a model run, a bug): not the client's fault."""


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


def _string(value: np.ndarray | None, name: str) -> str | None:
    if value is None:
        return None
    flat = np.asarray(value).reshape(-1)
    if flat.size != 1:
        raise StepInputError(f"{name} must hold exactly one string")
    raw = flat[0]
    if isinstance(raw, str):
        return raw
    # Imported here: the acoustic and vocoder stubs never load the text frontend's tables.
    from mandarin_tts.text.frontend import TextFrontendError, decode_request_text

    try:
        return decode_request_text(raw, name)
    except TextFrontendError as exc:
        raise StepInputError(str(exc)) from None


def isolate(run_one: Callable[[Any], Outputs], batch: Sequence[Any], step: str) -> list[Result]:
    """`run_one` per request; client errors pass through, anything else becomes internal."""
    results: list[Result] = []
    for inputs in batch:
        try:
            results.append(run_one(inputs))
        except StepInputError as exc:
            results.append(exc)
        except Exception as exc:  # noqa: BLE001 - one request's failure stays its own
            log.exception("%s failed on one request", step)
            results.append(StepInternalError(f"{step} failed: {type(exc).__name__}: {exc}"))
    return results


class TextFrontendStep:
    """TEXT + optional scales, speaker, emotion -> the voice's acoustic inputs + debug."""

    input_names = (
        c.TTS_IN_TEXT,
        *(n for n, _, _, _ in SCALES),
        *(n for n, _ in CHOICES),
        c.TTS_IN_LEXICON_VERSION,
    )

    def __init__(self, manifest: VoiceManifest, frontend: VoiceTextFrontend) -> None:
        self.manifest = manifest
        self.frontend = frontend
        self.aligned = has_alignment(manifest.family)

    @classmethod
    def for_voice(cls, manifest: VoiceManifest) -> TextFrontendStep:
        from mandarin_tts.voices.text_frontends import load_text_frontend

        return cls(manifest, load_text_frontend(manifest))

    def _scales(self, inputs: Inputs) -> Outputs:
        outputs: Outputs = {}
        for in_name, out_name, valid, control in SCALES:
            value = _scale(inputs.get(in_name), in_name, valid)
            if value != 1.0 and control not in self.manifest.controls:
                raise StepInputError(
                    f"voice {self.manifest.name!r} has no {control} control; it supports: "
                    f"{', '.join(self.manifest.controls) or 'none'}"
                )
            outputs[out_name] = np.array([[value]], dtype=np.float32)
        return outputs

    def run_one(self, inputs: Inputs) -> Outputs:
        text = _string(inputs.get(c.TTS_IN_TEXT), c.TTS_IN_TEXT)
        if text is None:
            raise StepInputError(f"{c.TTS_IN_TEXT} must hold exactly one string")
        outputs = self._scales(inputs)
        seen = _string(inputs.get(c.TTS_IN_LEXICON_VERSION), c.TTS_IN_LEXICON_VERSION)
        if seen is not None:
            from mandarin_tts.text.lexicon import catch_up_lexicon

            catch_up_lexicon(seen)
        try:
            choices = [
                check_choice(self.manifest, kind, _string(inputs.get(name), name))
                for name, kind in CHOICES
            ]
            encoded = self.frontend.encode(text, *choices)
        except VoiceInputError as exc:
            raise StepInputError(str(exc)) from exc
        if encoded.length == 0:
            raise StepInputError("the text produced no speakable units")
        for name, array in encoded.tensors.items():
            outputs[name] = np.asarray(array)[np.newaxis]
        outputs[c.TF_OUT_DEBUG] = np.array(
            [[encoded.normalized.encode("utf-8"), encoded.phonemes.encode("utf-8")]],
            dtype=object,
        )
        if self.aligned:
            outputs.update(alignment_outputs(encoded.alignment))
        return outputs

    def run_batch(self, batch: Sequence[Inputs]) -> list[Result]:
        return isolate(self.run_one, batch, "text frontend")


def alignment_outputs(alignment: SymbolAlignment | None) -> Outputs:
    """The text frontend's timestamp outputs, [1, n] each (n = 0 when it has none)."""
    symbol_chars = alignment.symbol_chars if alignment else ()
    chars = alignment.chars if alignment else ()
    pinyin = alignment.pinyin if alignment else ()
    return {
        c.TTS_OUT_SYMBOL_CHARS: np.array([symbol_chars], dtype=np.int32).reshape(1, -1),
        c.TTS_OUT_CHARS: np.array([[x.encode("utf-8") for x in chars]], dtype=object).reshape(
            1, -1
        ),
        c.TTS_OUT_CHAR_PINYIN: np.array(
            [[x.encode("utf-8") for x in pinyin]], dtype=object
        ).reshape(1, -1),
    }


def _sequence(inputs: Inputs, spec: SequenceTensor, max_length: int) -> np.ndarray:
    value = inputs.get(spec.name)
    if value is None:
        raise StepInputError(f"missing input {spec.name}")
    seq = np.asarray(value)
    shape = ["1", "T", *map(str, spec.trailing)]
    if seq.ndim != 2 + len(spec.trailing) or seq.shape[0] != 1:
        raise StepInputError(f"{spec.name} must have shape [{', '.join(shape)}]")
    if tuple(seq.shape[2:]) != spec.trailing:
        raise StepInputError(f"{spec.name} must end in {list(spec.trailing)}")
    if not 1 <= seq.shape[1] <= max_length:
        raise StepInputError(f"{spec.name} length must be 1..{max_length}, got {seq.shape[1]}")
    if seq.dtype.kind in "iu" and seq.min() < 0:
        raise StepInputError(f"{spec.name} must be non-negative")
    if seq.dtype.kind == "f" and not np.isfinite(seq).all():
        raise StepInputError(f"{spec.name} holds NaN or infinite values")
    return seq[0].astype(spec.dtype, copy=False)


def _collect(
    batch: Sequence[Inputs], prepare: Callable[[Inputs], Any]
) -> tuple[list[Result | None], list[int], list[Any]]:
    results: list[Result | None] = [None] * len(batch)
    valid: list[int] = []
    items: list[Any] = []
    for i, inputs in enumerate(batch):
        try:
            items.append(prepare(inputs))
            valid.append(i)
        except StepInputError as exc:
            results[i] = exc
    return results, valid, items


def _finish(
    results: list[Result | None],
    valid: list[int],
    outputs: Sequence[Any],
    wrap: Callable[[Any], Outputs],
    step: str,
) -> list[Result]:
    for i, out in zip(valid, outputs, strict=True):
        if isinstance(out, InvalidItem):
            results[i] = StepInputError(str(out))
        elif isinstance(out, Exception):
            log.error("%s failed on one request: %s", step, out)
            results[i] = StepInternalError(f"{step} failed: {out}")
        elif (out[0] if isinstance(out, tuple) else out).shape[0] == 0:
            log.error("%s produced no frames for one request", step)
            results[i] = StepInternalError(f"{step} produced no output for this request")
        else:
            results[i] = wrap(out)
    return [r if r is not None else StepInternalError(f"{step}: no result") for r in results]


class AcousticStep:
    """The voice's acoustic inputs + scales -> mel [1, frames, n_mels], batched; for an
    aligned family also the frames per input unit [1, T] (empty when the model cannot
    report them)."""

    def __init__(
        self, model: AcousticModel, sequences: tuple[SequenceTensor, ...], aligned: bool = False
    ) -> None:
        self.model = model
        self.sequences = sequences
        self.aligned = aligned

    @classmethod
    def for_family(cls, model: AcousticModel, family: str) -> AcousticStep:
        return cls(model, ACOUSTIC_SEQUENCES[family], has_alignment(family))

    @property
    def input_names(self) -> tuple[str, ...]:
        return (*(s.name for s in self.sequences), *(out for _, out, _, _ in SCALES))

    def _prepare(self, inputs: Inputs) -> AcousticRequest:
        tensors = {s.name: _sequence(inputs, s, MAX_UNITS) for s in self.sequences}
        if len({t.shape[0] for t in tensors.values()}) != 1:
            raise StepInputError(f"{', '.join(tensors)} must have the same length")
        speed, pitch, energy = (_scale(inputs.get(n), n, v) for _, n, v, _ in SCALES)
        return AcousticRequest(tensors, speed, pitch, energy)

    def _run(self, items: list[AcousticRequest]) -> Sequence[Any]:
        model = self.model
        if not items:
            return []
        if not self.aligned:
            return model.run_batch(items)
        if isinstance(model, AlignedAcousticModel) and model.reports_durations:
            return model.run_batch_aligned(items)
        no_durations = np.zeros(0, np.int32)
        return [
            r if isinstance(r, Exception) else (r, no_durations) for r in model.run_batch(items)
        ]

    def _wrap(self, out: Any) -> Outputs:
        if not self.aligned:
            return {c.AC_OUT_MEL: out[np.newaxis]}
        mel, durations = out
        return {
            c.AC_OUT_MEL: mel[np.newaxis],
            c.AC_OUT_DURATIONS: np.asarray(durations, np.int32)[np.newaxis],
        }

    def run_batch(self, batch: Sequence[Inputs]) -> list[Result]:
        results, valid, items = _collect(batch, self._prepare)
        try:
            outputs = self._run(items)
        except Exception as exc:  # noqa: BLE001 - a model that cannot run at all
            log.exception("acoustic model failed")
            outputs = [exc] * len(items)
        return _finish(results, valid, outputs, self._wrap, "acoustic")


class VocoderStep:
    """mel [1, frames, n_mels] -> audio [1, samples] + the voice's sample rate, batched."""

    def __init__(self, vocoder: Vocoder) -> None:
        self.vocoder = vocoder
        self.mel = SequenceTensor(c.VOC_IN_MEL, (vocoder.n_mels,), "float32")
        self.rate = np.array([[vocoder.sample_rate]], dtype=np.int32)

    input_names = (c.VOC_IN_MEL,)

    def _wrap(self, audio: np.ndarray) -> Outputs:
        return {c.VOC_OUT_AUDIO: audio[np.newaxis], c.VOC_OUT_SAMPLE_RATE: self.rate}

    def run_batch(self, batch: Sequence[Inputs]) -> list[Result]:
        results, valid, mels = _collect(batch, lambda x: _sequence(x, self.mel, MAX_FRAMES))
        try:
            outputs = self.vocoder.run_batch(mels) if mels else []
        except Exception as exc:  # noqa: BLE001
            log.exception("vocoder failed")
            outputs = [exc] * len(mels)
        return _finish(results, valid, outputs, self._wrap, "vocoder")
