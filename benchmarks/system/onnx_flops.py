"""FLOPs from ONNX graphs with the shapes of real runs (onnxruntime profiles).

The pipeline's sessions are swapped for profiling ones (graph optimizations and weight
prepacking off, so the nodes are the exported ONNX ops and every input shape is recorded);
after the runs every MatMul, Gemm, Conv, ConvTranspose and LSTM node execution is counted
from its recorded shapes. Element-wise ops are left out (a lower bound, like flops.py).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

COUNTED_OPS = ("MatMul", "Gemm", "Conv", "ConvTranspose", "LSTM")


def _prod(values: Sequence[int]) -> int:
    return int(np.prod([int(v) for v in values], dtype=np.int64)) if len(values) else 1


def node_macs(op: str, inputs: Sequence[Sequence[int]], outputs: Sequence[Sequence[int]]) -> int:
    """Multiply-adds of one node execution from its input and output shapes."""
    if op == "MatMul":  # [..., M, K] x [..., K, N] -> [..., M, N]
        return _prod(outputs[0]) * int(inputs[0][-1])
    if op == "Gemm":  # (A or A^T: M x K) -> [M, N]; K = |A| / M whichever way A is stored
        return _prod(outputs[0]) * (_prod(inputs[0]) // max(int(outputs[0][0]), 1))
    if op == "Conv":  # each output value: (C_in / group) x kernel multiply-adds
        return _prod(outputs[0]) * _prod(inputs[1][1:])
    if op == "ConvTranspose":  # each input value scatters into (C_out / group) x kernel
        return _prod(inputs[0]) * _prod(inputs[1][1:])
    if op == "LSTM":  # X [T, B, I], W [D, 4H, I], R [D, 4H, H]: per step and direction
        if len(inputs) < 3 or len(inputs[1]) != 3 or len(inputs[2]) != 3:
            raise ValueError(f"LSTM shapes {inputs} lack W or R (prepacked weights?)")
        steps, batch = int(inputs[0][0]), int(inputs[0][1])
        dirs, gates, width = (int(v) for v in inputs[1])
        hidden = int(inputs[2][2])
        return steps * batch * dirs * gates * (width + hidden)
    return 0


def _shapes(entries: Sequence[dict[str, list[int]]]) -> list[list[int]]:
    return [next(iter(entry.values())) for entry in entries]


def profile_macs(events: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Multiply-adds per op type over the node executions of an onnxruntime profile."""
    totals = dict.fromkeys(COUNTED_OPS, 0)
    for event in events:
        args = event.get("args", {})
        op = args.get("op_name")
        if event.get("cat") != "Node" or op not in totals:
            continue
        if not str(event.get("name", "")).endswith("_kernel_time"):
            continue
        inputs = _shapes(args.get("input_type_shape", []))
        outputs = _shapes(args.get("output_type_shape", []))
        totals[op] += node_macs(op, inputs, outputs)
    return totals


def counting_session(path: Path, profile_dir: Path) -> Any:
    """A 1-thread session that records node shapes (optimizations off: the ONNX ops)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    # Prepacked weights (LSTM, MatMul) would be missing from the recorded input shapes.
    options.add_session_config_entry("session.disable_prepacking", "1")
    options.enable_profiling = True
    options.profile_file_prefix = str(profile_dir / path.stem)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def session_slots(pipeline: Any) -> dict[str, list[tuple[Any, str]]]:
    """Where the pipeline keeps its ONNX sessions, per stage: (owner, attribute) pairs."""
    from mandarin_tts.pipeline.sambert import SambertAcoustic

    acoustic = pipeline.acoustic
    if isinstance(acoustic, SambertAcoustic):
        runner = acoustic.runner
        names = ("encoder", "duration_step", "regulate", "decoder_step", "postnet")
        acoustic_slots = [(runner, name) for name in names]
    else:  # FastSpeech2Acoustic: one RaggedOnnx
        acoustic_slots = [(acoustic.model, "session")]
    return {"acoustic": acoustic_slots, "vocoder": [(pipeline.vocoder.model, "session")]}


def session_path(session: Any) -> Path:
    # onnxruntime keeps the file it loaded; the product classes do not record it.
    return Path(session._model_path)  # noqa: SLF001


@contextmanager
def counted(pipeline: Any) -> Iterator[dict[str, dict[str, int]]]:
    """Swap the pipeline's sessions for profiling ones; on exit fill {stage: {file: MACs}}."""
    slots = session_slots(pipeline)
    saved = {(id(o), a): getattr(o, a) for stage in slots.values() for o, a in stage}
    macs: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="voice_cost_profile_") as tmp:
        profiling = {
            key: counting_session(session_path(session), Path(tmp))
            for key, session in saved.items()
        }
        for stage in slots.values():
            for owner, attr in stage:
                setattr(owner, attr, profiling[(id(owner), attr)])
        try:
            yield macs
        finally:
            for stage_name, stage in slots.items():
                macs[stage_name] = {}
                for owner, attr in stage:
                    session = profiling[(id(owner), attr)]
                    events = json.loads(Path(session.end_profiling()).read_text())
                    file = session_path(saved[(id(owner), attr)]).name
                    macs[stage_name][file] = sum(profile_macs(events).values())
                    setattr(owner, attr, saved[(id(owner), attr)])
