from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mandarin_tts.serving.tune.stats import percentile, ratio, summarize


@given(
    st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=50),
    st.sampled_from([0, 50, 95, 99, 100]),
)
def test_percentile_matches_numpy_linear(values: list[float], q: int) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), abs=1e-9)


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


def test_summarize_throughput_is_audio_per_wall_second() -> None:
    level = summarize(4, [1.0, 2.0, 3.0, 4.0], audio_s=30.0, wall_s=10.0, errors=1)
    assert level.requests == 4 and level.errors == 1
    assert level.throughput == pytest.approx(3.0)
    assert level.p50_s == pytest.approx(2.5)
    assert level.to_dict()["throughput"] == pytest.approx(3.0)


def test_ratio_is_nan_when_anything_is_missing() -> None:
    assert ratio(3.0, 2.0) == pytest.approx(1.5)
    assert math.isnan(ratio(math.nan, 2.0))
    assert math.isnan(ratio(1.0, 0.0))
