"""Stand-in acoustic and vocoder ONNX files with the contract's tensor names, dtypes and
length semantics, for developing and unit-testing the serving layer without the real
(slow to build) models. Not speech: frame-local maps of the ids / mels."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from mandarin_tts import contract as c
from mandarin_tts.paths import VOCODER_INT8_AVX2_ONNX, VOCODER_INT8_ONNX

FRAMES_PER_SYMBOL = 4
SAMPLES_PER_FRAME = c.OUTPUT_SAMPLE_RATE * c.ACOUSTIC_HOP // c.ACOUSTIC_SAMPLE_RATE  # 200
VOCAB = 256
OPSET = 17


def _save(graph: onnx.GraphProto, path: Path, metadata: dict[str, str] | None = None) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def acoustic_standin(path: Path) -> Path:
    rng = np.random.default_rng(0)
    table = rng.normal(0, 1, (VOCAB, c.N_MELS)).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["table", c.AC_IN_IDS], ["emb"]),  # [B,T,80]
        helper.make_node("Unsqueeze", ["emb", "ax2"], ["emb4"]),  # [B,T,1,80]
        helper.make_node("Tile", ["emb4", "reps"], ["tiled"]),  # [B,T,4,80]
        helper.make_node("Reshape", ["tiled", "flat_shape"], ["frames"]),  # [B,4T,80]
        helper.make_node("Unsqueeze", [c.AC_IN_PITCH, "ax12"], ["pitch3"]),
        helper.make_node("Mul", ["frames", "pitch3"], [c.AC_OUT_MEL]),
        helper.make_node("Mul", [c.AC_IN_LENGTHS, "fps"], [c.AC_OUT_MEL_LENGTHS]),
        # Every symbol lasts FRAMES_PER_SYMBOL frames (padding included, as the real one).
        helper.make_node("Mul", [c.AC_IN_IDS, "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "fps"], [c.AC_OUT_DURATIONS]),
    ]
    inits = [
        numpy_helper.from_array(table, "table"),
        numpy_helper.from_array(np.array([2], np.int64), "ax2"),
        numpy_helper.from_array(np.array([1, 2], np.int64), "ax12"),
        numpy_helper.from_array(np.array([1, 1, FRAMES_PER_SYMBOL, 1], np.int64), "reps"),
        numpy_helper.from_array(np.array([0, -1, c.N_MELS], np.int64), "flat_shape"),
        numpy_helper.from_array(np.array(FRAMES_PER_SYMBOL, np.int64), "fps"),
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
    ]
    scalar = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, ["B"])
        for n in (c.AC_IN_SPEED, c.AC_IN_PITCH, c.AC_IN_ENERGY)
    ]
    graph = helper.make_graph(
        nodes,
        "acoustic_standin",
        [
            helper.make_tensor_value_info(c.AC_IN_IDS, TensorProto.INT64, ["B", "T"]),
            helper.make_tensor_value_info(c.AC_IN_LENGTHS, TensorProto.INT64, ["B"]),
            *scalar,
        ],
        [
            helper.make_tensor_value_info(c.AC_OUT_MEL, TensorProto.FLOAT, ["B", "F", c.N_MELS]),
            helper.make_tensor_value_info(c.AC_OUT_MEL_LENGTHS, TensorProto.INT64, ["B"]),
            helper.make_tensor_value_info(c.AC_OUT_DURATIONS, TensorProto.INT64, ["B", "T"]),
        ],
        inits,
    )
    return _save(graph, path)


def vocoder_standin(path: Path, pad_safe: bool = True) -> Path:
    """`pad_safe=False` marks it like the build's int8 vocoder (no padding masks)."""
    rng = np.random.default_rng(1)
    weight = (rng.normal(0, 0.05, (c.N_MELS, SAMPLES_PER_FRAME))).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", [c.VOC_IN_MEL, "w"], ["proj"]),  # [B,F,200]
        helper.make_node("Reshape", ["proj", "flat_shape"], ["flat"]),  # [B,200F]
        helper.make_node("Tanh", ["flat"], [c.VOC_OUT_AUDIO]),
        helper.make_node("Mul", [c.VOC_IN_MEL_LENGTHS, "spf"], [c.VOC_OUT_AUDIO_LENGTHS]),
    ]
    inits = [
        numpy_helper.from_array(weight, "w"),
        numpy_helper.from_array(np.array([0, -1], np.int64), "flat_shape"),
        numpy_helper.from_array(np.array(SAMPLES_PER_FRAME, np.int64), "spf"),
    ]
    graph = helper.make_graph(
        nodes,
        "vocoder_standin",
        [
            helper.make_tensor_value_info(c.VOC_IN_MEL, TensorProto.FLOAT, ["B", "F", c.N_MELS]),
            helper.make_tensor_value_info(c.VOC_IN_MEL_LENGTHS, TensorProto.INT64, ["B"]),
        ],
        [
            helper.make_tensor_value_info(c.VOC_OUT_AUDIO, TensorProto.FLOAT, ["B", "N"]),
            helper.make_tensor_value_info(c.VOC_OUT_AUDIO_LENGTHS, TensorProto.INT64, ["B"]),
        ],
        inits,
    )
    return _save(graph, path, None if pad_safe else {c.ONNX_META_PAD_SAFE: "false"})


def write_standins(out_dir: Path) -> Path:
    """One stand-in per file a tier may name, so that any rendered tier loads. The int8
    vocoder's stand-in computes what the float one does but, like the real file, is
    marked as not padding-safe."""
    from mandarin_tts.serving.tiers import ONNX_FILE_CHOICES

    makers = {c.MODEL_ACOUSTIC: acoustic_standin, c.MODEL_VOCODER: vocoder_standin}
    for model, names in ONNX_FILE_CHOICES.items():
        first = out_dir / names[0]
        makers[model](first)
        for name in names[1:]:
            if name == VOCODER_INT8_ONNX.name:
                vocoder_standin(out_dir / name, pad_safe=False)
            else:
                shutil.copyfile(first, out_dir / name)
    # The int8 file serving substitutes on AVX2 CPUs without VNNI (int8_support.py).
    vocoder_standin(out_dir / VOCODER_INT8_AVX2_ONNX.name, pad_safe=False)
    from mandarin_tts.build.bundled_voice import write_bundled_manifest

    write_bundled_manifest(out_dir)
    return out_dir
