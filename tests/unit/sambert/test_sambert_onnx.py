"""The batched ONNX export and runner against our torch reference, batch vs single, framing,
speed, and the graphs' names/opset/dynamic axes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from mandarin_tts.sambert import tensors as t
from mandarin_tts.sambert.framing import SambertItem, model_units
from mandarin_tts.sambert.model import SambertModel, synthesize_torch
from mandarin_tts.sambert.runner import SambertOnnxRunner

from .conftest import MakeItem


def _batch(make_item: MakeItem) -> list[SambertItem]:
    """Different lengths, speakers, emotions (also varying within an item) and speeds."""
    return [
        make_item(9, speaker=0, emotion=1, seed=1),
        make_item(17, speaker=1, emotion=-1, speed=1.3, seed=2),
        make_item(2, speaker=1, emotion=5, speed=0.7, seed=3),
        make_item(12, speaker=0, emotion=-1, seed=4),
        make_item(1, speaker=0, emotion=2, seed=5),
    ]


def test_onnx_equals_torch_reference(
    runner: SambertOnnxRunner, tiny_model: SambertModel, make_item: MakeItem
) -> None:
    items = _batch(make_item)
    for item, mel in zip(items, runner.run_batch(items), strict=True):
        ref = synthesize_torch(tiny_model, item)
        assert mel.dtype == np.float32
        assert mel.shape == ref.shape
        assert mel.shape[0] > 0
        assert np.abs(mel - ref).max() <= 1e-4


def test_batched_equals_single(runner: SambertOnnxRunner, make_item: MakeItem) -> None:
    items = _batch(make_item)
    batched = runner.run_batch(items)
    frames = set()
    for item, mel in zip(items, batched, strict=True):
        (alone,) = runner.run_batch([item])
        assert mel.shape == alone.shape
        assert np.abs(mel - alone).max() <= 1e-5
        frames.add(mel.shape[0])
    assert len(frames) == len(items)  # really different lengths in one batch
    # Order inside the batch does not matter either.
    reversed_mels = runner.run_batch(items[::-1])[::-1]
    for a, b in zip(batched, reversed_mels, strict=True):
        assert np.abs(a - b).max() <= 1e-5


def test_kantts_framing_drops_only_the_eos(tiny_model: SambertModel, make_item: MakeItem) -> None:
    item = make_item(8, seed=6)
    ling, emotion, speaker = model_units(item)
    assert ling.shape == (8, 4)
    assert np.array_equal(ling, item.ling[:-1])
    # The runner's result is the model run on the units without eos (ModelScope's ling[:, :-1])...
    mel = synthesize_torch(tiny_model, item)
    direct = tiny_model.infer_reference(
        torch.from_numpy(ling), torch.from_numpy(emotion), torch.from_numpy(speaker)
    ).numpy()
    assert np.array_equal(mel, direct)
    # ...and not the model run on all n + 1 units.
    with_eos = tiny_model.infer_reference(
        torch.from_numpy(item.ling), torch.from_numpy(item.emotion), torch.from_numpy(item.speaker)
    ).numpy()
    assert with_eos.shape != mel.shape or np.abs(with_eos - mel).max() > 1e-3


def test_speed_above_one_shortens(runner: SambertOnnxRunner, make_item: MakeItem) -> None:
    base = make_item(14, seed=7)
    lengths = {}
    for speed in (0.5, 1.0, 1.5, 2.0):
        item = SambertItem(base.ling, base.emotion, base.speaker, speed)
        lengths[speed] = runner.run_batch([item])[0].shape[0]
    assert lengths[2.0] < lengths[1.5] < lengths[1.0] < lengths[0.5]
    assert abs(lengths[2.0] - lengths[1.0] / 2) <= 14  # rounding: at most 1 frame per unit
    # speed 1.0 is KAN-TTS's exact rounding of the unscaled durations.
    assert runner.run_batch([base])[0].shape[0] == lengths[1.0]


def test_regulate_graph_on_crafted_durations(tiny_onnx: Path, tiny_model: SambertModel) -> None:
    """Zero- and long-duration units, speed and padding through the regulate graph."""
    session = ort.InferenceSession(
        str(tiny_onnx / t.REGULATE_FILE), providers=["CPUExecutionProvider"]
    )
    cfg = tiny_model.cfg
    rng = np.random.default_rng(0)
    b, units = 3, 6
    text = rng.standard_normal((b, units, cfg.encoder_projection_units)).astype(np.float32)
    emo = rng.standard_normal((b, units, cfg.emotion_units)).astype(np.float32)
    spk = rng.standard_normal((b, units, cfg.speaker_units)).astype(np.float32)
    frames = np.array([[0, 4, 1, 0, 9, 2], [3, 0, 0, 5, 0, 0], [6, 6, 6, 6, 6, 6]], np.float32)
    log_dur = np.log(frames + 1.0).astype(np.float32)
    lengths = np.array([6, 4, 6], np.int64)
    speed = np.array([1.0, 1.0, 2.0], np.float32)
    out = session.run(
        list(t.REG_OUTPUTS),
        {
            t.REG_IN_TEXT: text,
            t.REG_IN_EMOTION: emo,
            t.REG_IN_SPEAKER: spk,
            t.REG_IN_LOG_DUR: log_dur,
            t.REG_IN_UNIT_LENGTHS: lengths,
            t.REG_IN_SPEED: speed,
        },
    )
    memory, memory_kv, frame_lengths, num_steps, band_width = out
    assert frame_lengths.tolist() == [16, 8, 18]  # speed 2: 6 / 2 = 3 frames per unit
    assert num_steps.tolist() == [6, 3, 6]
    assert band_width.tolist() == [3, 2, 1]  # int(max(d) / r + 0.5)
    assert memory.shape == (b, 6, cfg.decoder_memory_units)
    heads = cfg.decoder_num_heads
    assert memory_kv.shape == (
        cfg.decoder_num_layers,
        2,
        b,
        heads,
        6,
        cfg.decoder_num_units // heads,
    )
    with torch.no_grad():
        ref = tiny_model.regulate(
            *(torch.from_numpy(a) for a in (text, emo, spk, log_dur, lengths, speed))
        )
    assert np.abs(ref.memory.numpy() - memory).max() <= 1e-5
    # Item 1 alone equals its row of the padded batch (on its own steps).
    alone = session.run(
        list(t.REG_OUTPUTS),
        {
            t.REG_IN_TEXT: text[1:2, :4],
            t.REG_IN_EMOTION: emo[1:2, :4],
            t.REG_IN_SPEAKER: spk[1:2, :4],
            t.REG_IN_LOG_DUR: log_dur[1:2, :4],
            t.REG_IN_UNIT_LENGTHS: lengths[1:2],
            t.REG_IN_SPEED: speed[1:2],
        },
    )
    assert np.array_equal(alone[0][0], memory[1, :3])


def test_zero_frame_items_come_back_empty(runner: SambertOnnxRunner, make_item: MakeItem) -> None:
    tiny = make_item(1, seed=8, speed=1000.0)  # every duration rounds to 0 frames
    normal = make_item(5, seed=9)
    mels = runner.run_batch([tiny, normal])
    assert mels[0].shape == (0, runner.meta.num_mels)
    assert np.abs(mels[1] - runner.run_batch([normal])[0]).max() <= 1e-5
    assert runner.run_batch([tiny])[0].shape == (0, runner.meta.num_mels)
    assert runner.run_batch([]) == []


def _broken(item: SambertItem, what: str, sy_size: int) -> SambertItem:
    ling, emotion, speed = item.ling.copy(), item.emotion, item.speed
    if what == "speed0":
        speed = 0.0
    elif what == "speednan":
        speed = float("nan")
    elif what == "ling3":
        ling = np.zeros((ling.shape[0], 3), np.int64)
    elif what == "emotion_len":
        emotion = emotion[:-1]
    elif what == "no_eos":
        ling[-1, 0] = 0
    elif what == "sy_range":
        ling[0, 0] = sy_size
    return SambertItem(ling, emotion, item.speaker, speed)


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("speed0", "speed must be a positive"),
        ("speednan", "speed must be a positive"),
        ("ling3", r"ling must be \[T, 4\]"),
        ("emotion_len", "emotion"),
        ("no_eos", "eos unit"),
        ("sy_range", "sy ids must lie"),
    ],
)
def test_invalid_items_are_rejected(
    runner: SambertOnnxRunner, make_item: MakeItem, what: str, message: str
) -> None:
    item = _broken(make_item(4, seed=10), what, runner.meta.vocab.sy)
    with pytest.raises(ValueError, match=message):
        runner.run_batch([make_item(3), item])


def test_onnx_files_names_opset_axes_and_metadata(
    tiny_onnx: Path, tiny_model: SambertModel
) -> None:
    expected = {
        t.ENCODER_FILE: (t.ENC_INPUTS, t.ENC_OUTPUTS),
        t.DURATION_STEP_FILE: (t.DUR_INPUTS, t.DUR_OUTPUTS),
        t.REGULATE_FILE: (t.REG_INPUTS, t.REG_OUTPUTS),
        t.DECODER_STEP_FILE: (t.DEC_INPUTS, t.DEC_OUTPUTS),
        t.POSTNET_FILE: (t.POST_INPUTS, t.POST_OUTPUTS),
    }
    assert set(expected) == set(t.ALL_FILES)
    for name, (inputs, outputs) in expected.items():
        model = onnx.load(str(tiny_onnx / name))
        assert tuple(i.name for i in model.graph.input) == inputs
        assert tuple(o.name for o in model.graph.output) == outputs
        assert max(op.version for op in model.opset_import if op.domain in ("", "ai.onnx")) >= 17
        meta = {p.key: p.value for p in model.metadata_props}
        assert t.META_KEY in meta
        first = model.graph.input[0].type.tensor_type.shape.dim
        if name != t.DECODER_STEP_FILE:  # its first input is the step index, [1]
            assert first[0].dim_param == "batch"


def test_runner_rejects_mixed_exports(tiny_onnx: Path, tmp_path: Path) -> None:
    model = onnx.load(str(tiny_onnx / t.POSTNET_FILE))
    for prop in model.metadata_props:
        if prop.key == t.META_KEY:
            prop.value = prop.value.replace('"num_mels": 10', '"num_mels": 11')
    onnx.save(model, str(tmp_path / t.POSTNET_FILE))
    files = [tiny_onnx / name for name in t.ALL_FILES[:-1]] + [tmp_path / t.POSTNET_FILE]
    with pytest.raises(ValueError, match="one Sambert export"):
        SambertOnnxRunner(files[0], files[1], files[2], files[3], files[4])
    with pytest.raises(FileNotFoundError):
        SambertOnnxRunner.from_dir(tmp_path)


def test_runner_imports_no_torch() -> None:
    code = (
        "import sys; import mandarin_tts.sambert.runner, mandarin_tts.sambert.tensors; "
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
