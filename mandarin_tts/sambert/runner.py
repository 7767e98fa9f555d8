"""Batched Sambert inference on the exported ONNX files: numpy + onnxruntime, no torch.

`SambertOnnxRunner.run_batch(items)` pads the batch once, runs the encoder, steps the duration
predictor over units and the PNCA decoder over steps for ALL items together, then the postnet,
and returns each item's mel (frames x num_mels float32, the vocoder's input). Each item's
result equals the same item run alone: the graphs mask padding so that no item sees another's
(model.py documents the rules) and items that finish early keep stepping on padding whose
outputs are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mandarin_tts.sambert import tensors as t
from mandarin_tts.sambert.config import VocabSizes
from mandarin_tts.sambert.framing import SambertItem, model_units, validate_item
from mandarin_tts.serving.ort_session import OrtSettings, make_session


@dataclass(frozen=True)
class SambertOnnxMeta:
    """What the runner needs to know about the exported model (from tensors.META_KEY)."""

    num_mels: int
    outputs_per_step: int
    vocab: VocabSizes
    speakers: tuple[str, ...]
    max_units: int
    dur_lstm_layers: int
    dur_lstm_units: int
    decoder_num_layers: int
    decoder_num_units: int

    @classmethod
    def from_json(cls, text: str) -> SambertOnnxMeta:
        raw = json.loads(text)
        if raw.get("format_version") != 1:
            raise ValueError(f"unknown Sambert ONNX format_version {raw.get('format_version')}")
        return cls(
            num_mels=raw["num_mels"],
            outputs_per_step=raw["outputs_per_step"],
            vocab=VocabSizes(**raw["vocab"]),
            speakers=tuple(raw["speakers"]),
            max_units=raw["max_units"],
            dur_lstm_layers=raw["dur_lstm_layers"],
            dur_lstm_units=raw["dur_lstm_units"],
            decoder_num_layers=raw["decoder_num_layers"],
            decoder_num_units=raw["decoder_num_units"],
        )


class SambertOnnxRunner:
    """The five Sambert ONNX sessions and the batched loops that drive them."""

    def __init__(
        self,
        encoder: str | Path,
        duration_step: str | Path,
        regulate: str | Path,
        decoder_step: str | Path,
        postnet: str | Path,
        intra_op_threads: int = 1,
        session_factory: Callable[[Path], Any] | None = None,
    ) -> None:
        """`session_factory` (path -> onnxruntime session) lets serving apply a tier's
        providers and threads; by default CPU sessions with `intra_op_threads`."""
        paths = [Path(p) for p in (encoder, duration_step, regulate, decoder_step, postnet)]
        for path in paths:
            if not path.is_file():
                raise FileNotFoundError(f"{path}: Sambert ONNX file not found")
        settings = OrtSettings(intra_op_threads=intra_op_threads)
        factory = session_factory or (lambda path: make_session(path, settings))
        sessions = [factory(p) for p in paths]
        self.encoder, self.duration_step, self.regulate, self.decoder_step, self.postnet = sessions
        metas = {s.get_modelmeta().custom_metadata_map.get(t.META_KEY) for s in sessions}
        if len(metas) != 1 or None in metas:
            raise ValueError(f"{paths}: the five files do not come from one Sambert export")
        self.meta = SambertOnnxMeta.from_json(str(next(iter(metas))))

    @classmethod
    def from_dir(cls, folder: str | Path, intra_op_threads: int = 1) -> SambertOnnxRunner:
        """The files export.export_sambert_onnx wrote into `folder` (names from tensors.py)."""
        enc, dur, reg, dec, post = (Path(folder) / name for name in t.ALL_FILES)
        return cls(enc, dur, reg, dec, post, intra_op_threads)

    def run_batch(self, items: list[SambertItem]) -> list[np.ndarray]:
        """Each item's mel, float32 [frames, num_mels] (possibly 0 frames)."""
        if not items:
            return []
        meta = self.meta
        for item in items:
            validate_item(item, meta.vocab, meta.max_units)
        units = [model_units(item) for item in items]
        b = len(items)
        lengths = np.array([u[0].shape[0] for u in units], dtype=np.int64)
        t_max = int(lengths.max())
        # Pad with id 0: padded positions are masked in every graph, so the value is unused.
        ling = np.zeros((b, t_max, 4), np.int64)
        emotion = np.zeros((b, t_max), np.int64)
        speaker = np.zeros((b, t_max), np.int64)
        for i, (u_ling, u_emo, u_spk) in enumerate(units):
            n = u_ling.shape[0]
            ling[i, :n], emotion[i, :n], speaker[i, :n] = u_ling, u_emo, u_spk
        speed = np.array([item.speed for item in items], dtype=np.float32)

        dur_cond, text, emo_states, spk_states, _, _ = self.encoder.run(
            list(t.ENC_OUTPUTS),
            {
                t.ENC_IN_LING: ling,
                t.ENC_IN_EMOTION: emotion,
                t.ENC_IN_SPEAKER: speaker,
                t.ENC_IN_UNIT_LENGTHS: lengths,
            },
        )
        log_dur = self._durations(dur_cond)
        memory, memory_kv, frame_lengths, num_steps, band_width = self.regulate.run(
            list(t.REG_OUTPUTS),
            {
                t.REG_IN_TEXT: text,
                t.REG_IN_EMOTION: emo_states,
                t.REG_IN_SPEAKER: spk_states,
                t.REG_IN_LOG_DUR: log_dur,
                t.REG_IN_UNIT_LENGTHS: lengths,
                t.REG_IN_SPEED: speed,
            },
        )
        n_steps = int(num_steps.max())
        if n_steps == 0:
            return [np.zeros((0, meta.num_mels), np.float32) for _ in items]
        frames = self._decode(memory, memory_kv, band_width, num_steps, n_steps)
        (mel,) = self.postnet.run(
            list(t.POST_OUTPUTS), {t.POST_IN_FRAMES: frames, t.POST_IN_FRAME_LENGTHS: frame_lengths}
        )
        return [np.ascontiguousarray(mel[i, : int(frame_lengths[i])]) for i in range(b)]

    def _durations(self, dur_cond: np.ndarray) -> np.ndarray:
        """Step the autoregressive duration predictor over all units, the batch at once."""
        meta = self.meta
        b, t_max, _ = dur_cond.shape
        prev = np.zeros((b, 1), np.float32)
        h = np.zeros((meta.dur_lstm_layers, b, meta.dur_lstm_units), np.float32)
        c = np.zeros_like(h)
        out = np.zeros((b, t_max), np.float32)
        for i in range(t_max):
            # Items shorter than t_max step on padding; regulate masks those durations.
            prev, h, c = self.duration_step.run(
                list(t.DUR_OUTPUTS),
                {
                    t.DUR_IN_PREV: prev,
                    t.DUR_IN_COND: np.ascontiguousarray(dur_cond[:, i]),
                    t.DUR_IN_H: h,
                    t.DUR_IN_C: c,
                },
            )
            out[:, i] = prev[:, 0]
        return out

    def _decode(
        self,
        memory: np.ndarray,
        memory_kv: np.ndarray,
        band_width: np.ndarray,
        num_steps: np.ndarray,
        n_steps: int,
    ) -> np.ndarray:
        """Step the PNCA decoder n_steps times for the whole batch -> [B, n_steps * r, mels]."""
        meta = self.meta
        b = memory.shape[0]
        # Past window: the widest band in the batch (>= 1); narrower items mask the rest.
        n_past = max(int(band_width.max()), 1)
        layers, _, _, heads, n_mem, d_head = memory_kv.shape
        padded_kv = np.zeros((layers, 2, b, heads, n_mem + n_past, d_head), np.float32)
        padded_kv[:, :, :, :, :n_mem] = memory_kv
        past: Any = np.zeros((layers, 2, b, heads, n_past, d_head), np.float32)
        prev = np.zeros((b, meta.num_mels), np.float32)
        out = np.zeros((b, n_steps, meta.outputs_per_step * meta.num_mels), np.float32)
        for step in range(n_steps):
            frames, past = self.decoder_step.run(
                list(t.DEC_OUTPUTS),
                {
                    t.DEC_IN_STEP: np.array([step], np.int64),
                    t.DEC_IN_PREV_FRAME: prev,
                    t.DEC_IN_MEMORY: memory,
                    t.DEC_IN_MEMORY_KV: padded_kv,
                    t.DEC_IN_PAST_KV: past,
                    t.DEC_IN_BAND_WIDTH: band_width,
                    t.DEC_IN_NUM_STEPS: num_steps,
                },
            )
            out[:, step] = frames
            prev = np.ascontiguousarray(frames[:, -meta.num_mels :])
        return out.reshape(b, n_steps * meta.outputs_per_step, meta.num_mels)
