from __future__ import annotations

import pytest
import torch
from torch import nn

from benchmarks.system.flops import PhysicalLimit, count_flops, matmul_flops, per_audio_second


def test_linear_counts_two_flops_per_multiply_add() -> None:
    layer, x = nn.Linear(64, 32), torch.randn(10, 64)
    assert count_flops(lambda: layer(x)) == 2 * 10 * 64 * 32


def test_conv1d_and_transposed_conv_are_counted() -> None:
    conv, x = nn.Conv1d(8, 16, kernel_size=3, padding=1), torch.randn(1, 8, 50)
    assert count_flops(lambda: conv(x)) == 2 * 16 * 8 * 3 * 50
    up = nn.ConvTranspose1d(16, 4, kernel_size=4, stride=2)
    y = torch.randn(1, 16, 10)
    # Every input sample meets every kernel tap once: in_len * in_ch * out_ch * k MACs.
    assert count_flops(lambda: up(y)) == 2 * 10 * 16 * 4 * 4


def test_per_audio_second_uses_the_acoustic_frame_rate() -> None:
    # 80 frames of 300 samples at 24 kHz = 1 s
    assert per_audio_second(1000, 80) == pytest.approx(1000.0)
    assert per_audio_second(1000, 40, hop=300, rate=24_000) == pytest.approx(2000.0)


def test_matmul_flops() -> None:
    assert matmul_flops(2) == 16


def test_physical_limit_fraction() -> None:
    limit = PhysicalLimit(
        acoustic_gflop_per_audio_s=5.0, vocoder_gflop_per_audio_s=45.0, peak_gflops=200.0
    )
    assert limit.total_gflop_per_audio_s == 50.0
    assert limit.max_throughput == pytest.approx(4.0)
    assert limit.achieved_fraction(2.0) == pytest.approx(0.5)
    assert limit.to_dict()["max_throughput"] == pytest.approx(4.0)


def test_int8_vocoder_limit_weighs_each_stage_by_its_peak() -> None:
    limit = PhysicalLimit(
        acoustic_gflop_per_audio_s=10.0,
        vocoder_gflop_per_audio_s=40.0,
        peak_gflops=100.0,
        int8_peak_gops=400.0,
    )
    # float: 50 / 100 = 0.5 s per audio s; int8 vocoder: 0.1 + 0.1 = 0.2 s
    assert limit.max_throughput_for(False) == pytest.approx(2.0)
    assert limit.max_throughput_for(True) == pytest.approx(5.0)
    assert limit.achieved_fraction(2.5, vocoder_int8=True) == pytest.approx(0.5)
    assert limit.to_dict()["max_throughput_int8_vocoder"] == pytest.approx(5.0)
