"""Export a SambertModel to the five batched ONNX files named in tensors.py.

Why five: the two autoregressive loops (durations over units, the PNCA decoder over steps) are
exported as single steps with explicit state tensors, and the runner steps the whole batch
together; what lies between them (length regulation, memory K/V) and after them (postnet) is
one batched graph each. Every file carries the JSON summary the runner needs under
tensors.META_KEY. Run alone: `python -m mandarin_tts.sambert.export VOICE_DIR OUT_DIR`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from mandarin_tts.onnx_export import GraphIO, export_checked_onnx
from mandarin_tts.sambert import tensors as t
from mandarin_tts.sambert.model import SambertModel


def onnx_metadata(model: SambertModel, max_units: int) -> dict[str, Any]:
    cfg = model.cfg
    return {
        "format_version": 1,
        "num_mels": cfg.num_mels,
        "outputs_per_step": cfg.outputs_per_step,
        "vocab": {
            "sy": cfg.vocab.sy,
            "tone": cfg.vocab.tone,
            "syllable_flag": cfg.vocab.syllable_flag,
            "word_segment": cfg.vocab.word_segment,
            "emotion": cfg.vocab.emotion,
            "speaker": cfg.vocab.speaker,
        },
        "speakers": list(cfg.speakers),
        "max_units": max_units,
        "dur_cond_units": cfg.duration_cond_units,
        "dur_lstm_layers": 2,
        "dur_lstm_units": cfg.dur_pred_lstm_units,
        "decoder_num_layers": cfg.decoder_num_layers,
        "decoder_num_units": cfg.decoder_num_units,
        "decoder_num_heads": cfg.decoder_num_heads,
        "decoder_memory_units": cfg.decoder_memory_units,
    }


class _Encoder(nn.Module):
    def __init__(self, model: SambertModel) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, ling: Tensor, emotion: Tensor, speaker: Tensor, lengths: Tensor
    ) -> tuple[Tensor, ...]:
        out = self.model.encode(ling, emotion, speaker, lengths)
        return out.dur_cond, out.text, out.emotion, out.speaker, out.pitch, out.energy


class _DurationStep(nn.Module):
    def __init__(self, model: SambertModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, prev: Tensor, cond: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, ...]:
        return self.model.duration_step(prev, cond, h, c)


class _Regulate(nn.Module):
    def __init__(self, model: SambertModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, *args: Tensor) -> tuple[Tensor, ...]:
        out = self.model.regulate(*args)  # text, emotion, speaker, log_dur, lengths, speed
        return out.memory, out.memory_kv, out.frame_lengths, out.num_steps, out.band_width


class _DecoderStep(nn.Module):
    def __init__(self, model: SambertModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, *args: Tensor) -> tuple[Tensor, Tensor]:
        return self.model.decoder_step(*args)


class _Postnet(nn.Module):
    def __init__(self, model: SambertModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: Tensor, frame_lengths: Tensor) -> Tensor:
        return self.model.postnet(frames, frame_lengths)


def _examples(model: SambertModel) -> dict[str, tuple[Tensor, ...]]:
    """Two items of different lengths, so every graph is traced with real padding."""
    cfg = model.cfg
    b, units = 2, 5
    ling = torch.zeros(b, units, 4, dtype=torch.long)
    emotion = torch.ones(b, units, dtype=torch.long)
    speaker = torch.zeros(b, units, dtype=torch.long)
    lengths = torch.tensor([units, 3])
    with torch.no_grad():
        enc = model.encode(ling, emotion, speaker, lengths)
        log_dur = torch.full((b, units), 1.5)
        speed = torch.tensor([1.0, 1.25])
        reg = model.regulate(enc.text, enc.emotion, enc.speaker, log_dur, lengths, speed)
    hidden = cfg.dur_pred_lstm_units
    n_past = 2
    kv = reg.memory_kv
    padded_kv = torch.cat([kv, kv.new_zeros(*kv.shape[:4], n_past, kv.shape[5])], dim=4)
    n_steps = int(reg.num_steps.max())
    return {
        t.ENCODER_FILE: (ling, emotion, speaker, lengths),
        t.DURATION_STEP_FILE: (
            torch.zeros(b, 1),
            enc.dur_cond[:, 0],
            torch.zeros(2, b, hidden),
            torch.zeros(2, b, hidden),
        ),
        t.REGULATE_FILE: (enc.text, enc.emotion, enc.speaker, log_dur, lengths, speed),
        t.DECODER_STEP_FILE: (
            torch.tensor([1]),
            torch.zeros(b, cfg.num_mels),
            reg.memory,
            padded_kv,
            kv.new_zeros(*kv.shape[:4], n_past, kv.shape[5]),
            reg.band_width,
            reg.num_steps,
        ),
        t.POSTNET_FILE: (
            torch.zeros(b, n_steps * cfg.outputs_per_step, cfg.num_mels),
            reg.frame_lengths,
        ),
    }


# Dynamic axes by tensor layout: per unit [B, U, ...], per item [B, ...], LSTM state
# [layers, B, H], memory K/V [layers, 2, B, heads, steps, d], frames [B, T, mels].
_AXES: dict[str, dict[int, str]] = {
    **dict.fromkeys(
        (
            t.ENC_IN_LING,
            t.ENC_IN_EMOTION,
            t.ENC_IN_SPEAKER,
            t.ENC_OUT_DUR_COND,
            t.ENC_OUT_TEXT,
            t.ENC_OUT_EMOTION,
            t.ENC_OUT_SPEAKER,
            t.ENC_OUT_PITCH,
            t.ENC_OUT_ENERGY,
            t.REG_IN_LOG_DUR,
        ),
        {0: "batch", 1: "units"},
    ),
    **dict.fromkeys(
        (
            t.ENC_IN_UNIT_LENGTHS,
            t.DUR_IN_PREV,
            t.DUR_IN_COND,
            t.DUR_OUT_LOG_DUR,
            t.REG_IN_SPEED,
            t.REG_OUT_FRAME_LENGTHS,
            t.REG_OUT_NUM_STEPS,
            t.REG_OUT_BAND_WIDTH,
            t.DEC_IN_PREV_FRAME,
            t.DEC_OUT_FRAMES,
        ),
        {0: "batch"},
    ),
    **dict.fromkeys((t.DUR_IN_H, t.DUR_IN_C, t.DUR_OUT_H, t.DUR_OUT_C), {1: "batch"}),
    t.REG_OUT_MEMORY: {0: "batch", 1: "steps"},
    t.REG_OUT_MEMORY_KV: {2: "batch", 4: "steps"},
    **dict.fromkeys((t.DEC_IN_PAST_KV, t.DEC_OUT_PAST_KV), {2: "batch", 4: "past"}),
    **dict.fromkeys((t.POST_IN_FRAMES, t.POST_OUT_MEL), {0: "batch", 1: "frames"}),
}
# The decoder step sees the padded memory K/V (its own steps axis name).
_DEC_AXES = {**_AXES, t.DEC_IN_MEMORY_KV: {2: "batch", 4: "padded_steps"}}

_GRAPHS: dict[str, tuple[type[nn.Module], tuple[str, ...], tuple[str, ...]]] = {
    t.ENCODER_FILE: (_Encoder, t.ENC_INPUTS, t.ENC_OUTPUTS),
    t.DURATION_STEP_FILE: (_DurationStep, t.DUR_INPUTS, t.DUR_OUTPUTS),
    t.REGULATE_FILE: (_Regulate, t.REG_INPUTS, t.REG_OUTPUTS),
    t.DECODER_STEP_FILE: (_DecoderStep, t.DEC_INPUTS, t.DEC_OUTPUTS),
    t.POSTNET_FILE: (_Postnet, t.POST_INPUTS, t.POST_OUTPUTS),
}


def export_sambert_onnx(
    model: SambertModel, out_dir: str | Path, max_units: int = t.MAX_UNITS
) -> dict[str, Path]:
    """Write the five ONNX files into `out_dir`; returns {file name: path}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    model.refresh_position_table(max_units)  # the encoder accepts up to max_units units
    metadata = json.dumps(onnx_metadata(model, max_units), sort_keys=True)
    examples = _examples(model)
    written = {}
    for name, (wrapper_cls, inputs, outputs) in _GRAPHS.items():
        axes = _DEC_AXES if name == t.DECODER_STEP_FILE else _AXES
        written[name] = export_checked_onnx(
            wrapper_cls(model),
            examples[name],
            out_dir / name,
            GraphIO(inputs, outputs, axes),
            t.OPSET,
            metadata={t.META_KEY: metadata},
            # The tracer warns about shape arithmetic it records as dynamic ops; checked by
            # the tests running other batch/length/window sizes than traced.
            ignore_warnings=(".*",),
        )
    return written


def main(argv: list[str]) -> int:
    from mandarin_tts.sambert.checkpoint import load_voice_am

    if len(argv) != 2:
        print("usage: python -m mandarin_tts.sambert.export VOICE_DIR OUT_DIR", file=sys.stderr)
        return 2
    _, model, checkpoint = load_voice_am(argv[0])
    for name, path in export_sambert_onnx(model, argv[1]).items():
        print(f"{checkpoint} -> {path} ({path.stat().st_size / 1e6:.1f} MB) [{name}]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
