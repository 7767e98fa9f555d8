"""Our PyTorch HiFi-GAN vs the pretrained TorchScript original, and its length masking."""

from __future__ import annotations

import numpy as np
import torch
from mel_helpers import speech_like_mel

from mandarin_tts.contract import OUTPUT_SAMPLE_RATE, VOCODER_HOP
from mandarin_tts.vocoder.bridge import MelBridge
from mandarin_tts.vocoder.bridged import BridgedVocoder
from mandarin_tts.vocoder.hifigan import HiFiGANGenerator
from mandarin_tts.vocoder.mel import vocoder_mel


def _real_vocoder_mel(seconds: float = 0.6) -> torch.Tensor:
    """A vocoder-space mel of a harmonic tone with vibrato and some noise: [1, 80, T]."""
    t = np.arange(int(seconds * OUTPUT_SAMPLE_RATE)) / OUTPUT_SAMPLE_RATE
    f0 = 140 + 20 * np.sin(2 * np.pi * 3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / OUTPUT_SAMPLE_RATE
    audio = sum(np.sin(k * phase) / k for k in range(1, 12)) * 0.2
    audio = audio + 0.01 * np.random.default_rng(0).standard_normal(t.size)
    return torch.from_numpy(vocoder_mel(audio.astype(np.float32)).T[None].copy())


def test_generator_matches_torchscript(generator: HiFiGANGenerator, scripted) -> None:  # type: ignore[no-untyped-def]
    mel = _real_vocoder_mel()
    with torch.no_grad():
        ours = generator(mel)
        original = scripted(mel)
    assert ours.shape == original.shape == (1, 1, mel.shape[-1] * VOCODER_HOP)
    assert float(original.abs().max()) > 0.01  # a real signal, not silence
    torch.testing.assert_close(ours, original, atol=1e-4, rtol=0)


def test_state_dict_holds_every_pretrained_tensor(generator: HiFiGANGenerator, scripted) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = generator.state_dict(), scripted.state_dict()
    assert ours.keys() == theirs.keys()
    assert sum(v.numel() for v in ours.values()) > 13_000_000
    for name, tensor in theirs.items():
        assert torch.equal(ours[name], tensor), name


def test_masked_batch_equals_each_item_alone(generator: HiFiGANGenerator) -> None:
    mel = _real_vocoder_mel()
    long_len, short_len = mel.shape[-1], mel.shape[-1] - 23
    batch = torch.full((2, 80, long_len), 3.0)  # padding filled with loud garbage
    batch[0] = mel[0]
    batch[1, :, :short_len] = mel[0, :, 10 : 10 + short_len]
    with torch.no_grad():
        together = generator(batch, torch.tensor([long_len, short_len]))
        alone = generator(mel[:, :, 10 : 10 + short_len])
    torch.testing.assert_close(
        together[1, :, : short_len * VOCODER_HOP], alone[0], atol=5e-5, rtol=0
    )


def test_without_pad_masks_a_lone_item_is_unchanged(generator: HiFiGANGenerator) -> None:
    # The int8 build exports the vocoder with pad_masks=False; for one item (and for
    # equal-length items, all that serving batches for it) nothing may change.
    bridge = MelBridge.load_params()
    masked = BridgedVocoder(bridge, generator, pad_masks=True).eval()
    unmasked = BridgedVocoder(bridge, generator, pad_masks=False).eval()
    mel = torch.from_numpy(speech_like_mel(57, seed=3)).repeat(2, 1, 1)
    lengths = torch.tensor([57, 57])
    with torch.no_grad():
        expected, expected_lengths = masked(mel, lengths)
        audio, audio_lengths = unmasked(mel, lengths)
    torch.testing.assert_close(audio_lengths, expected_lengths)
    torch.testing.assert_close(audio, expected, atol=0, rtol=0)
    assert audio.abs().max() > 1e-3
