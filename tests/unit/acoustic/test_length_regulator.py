"""The batched length regulator and masks, on hand-made tensors."""

from __future__ import annotations

import torch

from mandarin_tts.acoustic.model import length_regulate, quantize_int8, sequence_mask


def test_repeats_each_symbol_by_its_duration() -> None:
    hidden = torch.tensor([[[1.0], [2.0], [3.0]]])
    frames, lengths, mask = length_regulate(hidden, torch.tensor([[2, 0, 3]]), torch.tensor([3]))
    assert frames[0, :, 0].tolist() == [1.0, 1.0, 3.0, 3.0, 3.0]
    assert lengths.tolist() == [5]
    assert mask.tolist() == [[1.0] * 5]


def test_batch_pads_shorter_items_with_zero_frames() -> None:
    hidden = torch.tensor([[[1.0], [2.0], [3.0]], [[4.0], [5.0], [9.0]]])
    durations = torch.tensor([[1, 2, 1], [3, 1, 0]])  # item 2 has 2 symbols
    frames, lengths, mask = length_regulate(hidden, durations, torch.tensor([3, 2]))
    assert lengths.tolist() == [4, 4]
    assert frames[0, :, 0].tolist() == [1.0, 2.0, 2.0, 3.0]
    assert frames[1, :, 0].tolist() == [4.0, 4.0, 4.0, 5.0]

    frames, lengths, mask = length_regulate(
        hidden, torch.tensor([[1, 2, 1], [1, 1, 0]]), torch.tensor([3, 2])
    )
    assert lengths.tolist() == [4, 2]
    assert frames[1, :, 0].tolist() == [4.0, 5.0, 0.0, 0.0]
    assert mask[1].tolist() == [1.0, 1.0, 0.0, 0.0]


def test_all_zero_durations_give_one_padding_frame() -> None:
    frames, lengths, mask = length_regulate(
        torch.ones(1, 2, 4), torch.zeros(1, 2, dtype=torch.int64), torch.tensor([2])
    )
    assert frames.shape == (1, 1, 4) and lengths.tolist() == [0]
    assert mask.tolist() == [[0.0]] and frames.abs().sum() == 0


def test_sequence_mask() -> None:
    assert sequence_mask(torch.tensor([2, 0, 3]), 3).tolist() == [
        [1.0, 1.0, 0.0],
        [0.0, 0.0, 0.0],
        [1.0, 1.0, 1.0],
    ]


def test_int8_quantization_rounds_half_away_from_zero() -> None:
    x = torch.tensor([[127.0, 0.5, -0.5, 1.5, -2.5, 0.49]])
    q, scale = quantize_int8(x, (-1,))
    assert scale.item() == 1.0
    assert q.tolist() == [[127.0, 1.0, -1.0, 2.0, -3.0, 0.0]]
    q, scale = quantize_int8(torch.zeros(1, 3), (-1,))
    assert q.abs().sum() == 0 and scale.item() == 0
