import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mandarin_tts.serving.batching import pad_sequences, plan_runs, split_padded


@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=12))
def test_pad_then_split_returns_every_item(lengths):
    rng = np.random.default_rng(len(lengths))
    items = [rng.normal(size=(n, 3)).astype(np.float32) for n in lengths]
    padded, got_lengths = pad_sequences(items, pad_value=-7.0)
    assert padded.shape == (len(items), max(lengths), 3)
    assert got_lengths.tolist() == lengths
    for item, piece in zip(items, split_padded(padded, got_lengths), strict=True):
        np.testing.assert_array_equal(item, piece)
    for row, n in enumerate(lengths):
        assert (padded[row, n:] == -7.0).all()


def test_pad_keeps_integer_dtype():
    padded, lengths = pad_sequences([np.array([5, 6], np.int64), np.array([7], np.int64)], 0)
    assert padded.dtype == np.int64
    assert padded.tolist() == [[5, 6], [7, 0]]
    assert lengths.tolist() == [2, 1]


def test_pad_rejects_mismatched_trailing_shapes():
    with pytest.raises(ValueError, match="differ"):
        pad_sequences([np.zeros((2, 80), np.float32), np.zeros((2, 79), np.float32)])


def test_pad_rejects_empty_batch():
    with pytest.raises(ValueError):
        pad_sequences([])


def test_split_rejects_lengths_beyond_the_padding():
    with pytest.raises(ValueError, match="outside"):
        split_padded(np.zeros((2, 3)), np.array([1, 4]))
    with pytest.raises(ValueError, match="rows"):
        split_padded(np.zeros((2, 3)), np.array([1]))


@given(
    st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=16),
    st.floats(min_value=1.0, max_value=5.0),
)
def test_plan_runs_covers_every_request_once_and_bounds_padding(lengths, ratio):
    runs = plan_runs(lengths, ratio)
    assert sorted(i for run in runs for i in run) == list(range(len(lengths)))
    for run in runs:
        if len(run) > 1:
            padded = len(run) * max(lengths[i] for i in run)
            assert padded <= ratio * sum(lengths[i] for i in run) + 1e-9


def test_plan_runs_keeps_one_run_when_padding_is_allowed():
    assert plan_runs([10, 100, 12], 100.0) == [[0, 2, 1]]
    assert plan_runs([10, 100, 12], 1.5) == [[0, 2], [1]]
