"""FLOPs from onnxruntime-profiled ONNX graphs (benchmarks/system/onnx_flops.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from benchmarks.system import onnx_flops as of

# -- multiply-adds from shapes ----------------------------------------------------------------


def test_matmul_and_gemm_macs() -> None:
    # [2, 5, 8] x [8, 3] -> [2, 5, 3]: 2 * 5 * 3 outputs, 8 multiply-adds each
    assert of.node_macs("MatMul", [[2, 5, 8], [8, 3]], [[2, 5, 3]]) == 2 * 5 * 3 * 8
    # Gemm with A stored transposed ([K, M] = [8, 4]) -> [4, 6]: K is still 8
    assert of.node_macs("Gemm", [[8, 4], [8, 6], [6]], [[4, 6]]) == 4 * 6 * 8


def test_conv_macs_follow_groups_and_kernel() -> None:
    # depthwise (group = C): weight [16, 1, 5] -> 5 multiply-adds per output value
    assert of.node_macs("Conv", [[1, 16, 40], [16, 1, 5]], [[1, 16, 36]]) == 16 * 36 * 5
    # transposed: each input value meets C_out x kernel weights
    assert of.node_macs("ConvTranspose", [[1, 8, 10], [8, 4, 6]], [[1, 4, 24]]) == 8 * 10 * 4 * 6


def test_lstm_macs_count_both_directions_and_all_steps() -> None:
    # X [T=7, B=2, I=5], W [2, 4H, I], R [2, 4H, H] with H = 3
    shapes = [[7, 2, 5], [2, 12, 5], [2, 12, 3], [2, 24]]
    assert of.node_macs("LSTM", shapes, [[7, 2, 2, 3]]) == 7 * 2 * 2 * 12 * (5 + 3)
    with pytest.raises(ValueError, match="LSTM"):
        of.node_macs("LSTM", [[7, 2, 5], [2, 24]], [[7, 2, 2, 3]])  # a prepacked W is missing


def test_profile_macs_reads_kernel_events_only() -> None:
    def event(name: str, op: str, inputs: list[list[int]], outputs: list[list[int]]) -> Any:
        return {
            "cat": "Node",
            "name": name,
            "args": {
                "op_name": op,
                "input_type_shape": [{"float": s} for s in inputs],
                "output_type_shape": [{"float": s} for s in outputs],
            },
        }

    events = [
        event("mm_kernel_time", "MatMul", [[1, 4, 8], [8, 2]], [[1, 4, 2]]),
        event("mm_fence_before", "MatMul", [[1, 4, 8], [8, 2]], [[1, 4, 2]]),
        event("relu_kernel_time", "Relu", [[1, 4, 2]], [[1, 4, 2]]),
        {"cat": "Session", "name": "model_run", "args": {}},
    ]
    totals = of.profile_macs(events)
    assert totals["MatMul"] == 4 * 2 * 8
    assert sum(totals.values()) == 64


# -- the profiled count on a real ONNX graph equals the analytic count -----------------------


class _Mixed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(6, 8)
        self.conv = nn.Conv1d(8, 8, 5, padding=2, groups=2)
        self.up = nn.ConvTranspose1d(8, 4, 4, stride=2)
        self.lstm = nn.LSTM(4, 3, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x).transpose(1, 2)  # [B, 8, T]
        y = self.up(self.conv(y)).transpose(1, 2)  # [B, 2T + 2, 4]
        return self.lstm(y)[0]


def test_profiled_onnx_count_matches_the_shapes(tmp_path: Path) -> None:
    path = tmp_path / "mixed.onnx"
    x = torch.randn(1, 10, 6)
    torch.onnx.export(
        _Mixed().eval(),
        (x,),
        str(path),
        input_names=["x"],
        dynamic_axes={"x": {1: "t"}},
        opset_version=17,
        dynamo=False,
    )
    session = of.counting_session(path, tmp_path)
    frames = 13
    session.run(None, {"x": np.zeros((1, frames, 6), np.float32)})
    totals = of.profile_macs(json.loads(Path(session.end_profiling()).read_text()))
    steps = 2 * frames + 2
    expected = {
        "linear": frames * 6 * 8,
        "conv": frames * 8 * (8 // 2) * 5,
        "up": frames * 8 * 4 * 4,
        "lstm": steps * 2 * 4 * 3 * (4 + 3),
    }
    assert totals["LSTM"] == expected["lstm"]
    assert totals["Conv"] == expected["conv"]
    assert totals["ConvTranspose"] == expected["up"]
    assert totals["MatMul"] + totals["Gemm"] == expected["linear"]
