"""The mel bridge: committed parameters, frame-grid arithmetic, interpolation, masking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from mel_helpers import speech_like_mel

from mandarin_tts.contract import N_MELS
from mandarin_tts.vocoder.bridge import (
    BRIDGE_PARAMS,
    BridgeConfig,
    MelBridge,
    interpolate_to_vocoder_frames,
    load_metadata,
    vocoder_frames,
)


def test_committed_params_load_with_expected_shapes() -> None:
    bridge = MelBridge.load_params(BRIDGE_PARAMS)
    cfg = bridge.config
    assert bridge.affine.weight.shape == (N_MELS, N_MELS, 1)
    assert bridge.convs[0].weight.shape == (cfg.hidden, N_MELS, cfg.kernel)
    assert bridge.convs[-1].weight.shape == (N_MELS, cfg.hidden, cfg.kernel)
    params = sum(p.numel() for p in bridge.parameters())
    assert params < 500_000, "the committed bridge must stay small"
    assert BRIDGE_PARAMS.stat().st_size < 2_000_000
    assert all(torch.isfinite(p).all() for p in bridge.parameters())
    assert load_metadata(BRIDGE_PARAMS)["input_mels"] in {"reference", "acoustic-onnx"}


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(1)
    bridge = MelBridge(BridgeConfig(hidden=16, kernel=3, layers=2))
    path = tmp_path / "bridge.npz"
    bridge.save_params(path, note="test")
    loaded = MelBridge.load_params(path)
    assert loaded.config == bridge.config
    for (name, a), (_, b) in zip(
        bridge.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert load_metadata(path) == {"note": "test"}


@pytest.mark.parametrize(("acoustic", "expected"), [(1, 2), (4, 5), (5, 7), (8, 10), (37, 47)])
def test_vocoder_frames_is_ceil_of_five_quarters(acoustic: int, expected: int) -> None:
    assert int(vocoder_frames(torch.tensor(acoustic))) == expected


def test_interpolation_of_a_ramp_is_exact_inside_and_clamped_at_the_end() -> None:
    frames = 12
    ramp = torch.arange(frames, dtype=torch.float32).reshape(1, 1, -1).repeat(1, 3, 1)
    out = interpolate_to_vocoder_frames(ramp, torch.tensor([frames]))[0, 0]
    positions = (torch.arange(out.numel()) + 0.5) * 0.8
    torch.testing.assert_close(out, positions.clamp(max=frames - 1))


def test_bridge_output_ignores_padding() -> None:
    torch.manual_seed(0)
    bridge = MelBridge(BridgeConfig(hidden=32)).eval()
    short = torch.from_numpy(speech_like_mel(21, 0))[None]
    padded = torch.full((1, 30, N_MELS), 9.0)
    padded[:, :21] = short
    with torch.no_grad():
        alone = bridge(short, torch.tensor([21]))
        together = bridge(padded, torch.tensor([21]))
    assert alone.shape == (1, N_MELS, 27)
    assert together.shape == (1, N_MELS, 38)
    torch.testing.assert_close(together[..., :27], alone)


def test_committed_bridge_maps_to_plausible_vocoder_mels() -> None:
    bridge = MelBridge.load_params(BRIDGE_PARAMS)
    with torch.no_grad():
        out = bridge(torch.from_numpy(speech_like_mel(40, 5))[None], torch.tensor([40])).numpy()
    # ln-magnitude mels of speech live roughly in [-11.5, 3]
    assert -14 < out.mean() < 2
    assert np.isfinite(out).all()
