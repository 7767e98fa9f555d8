from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from loadtest.users.metrics import ALL, TtsMetrics, percentile


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.95) == 95
    assert percentile(values, 0.50) == 50
    assert percentile([7.0], 0.95) == 7.0
    assert math.isnan(percentile([], 0.95))


def test_summaries_per_name_and_aggregated() -> None:
    metrics = TtsMetrics()
    metrics.record("a", first_audio_s=0.2, total_s=1.0, audio_s=2.0)
    metrics.record("a", first_audio_s=0.4, total_s=3.0, audio_s=2.0)
    metrics.record("b", first_audio_s=1.0, total_s=1.0, audio_s=4.0)
    rows = {s.name: s for s in metrics.summaries()}
    assert rows["a"].requests == 2
    assert rows["a"].rtf_p50 == pytest.approx(0.5)
    assert rows["a"].rtf_max == pytest.approx(1.5)
    assert rows["b"].first_audio_p95_ms == pytest.approx(1000.0)
    assert rows[ALL].requests == 3
    assert rows[ALL].audio_seconds == pytest.approx(8.0)


def test_worker_samples_merge_into_the_master() -> None:
    worker, master = TtsMetrics(), TtsMetrics()
    worker.record("a", 0.1, 0.5, 1.0)
    master.record("a", 0.3, 0.6, 1.0)
    master.merge(worker.drain())
    assert worker.all_samples() == []  # drained samples are not sent twice
    assert len(master.samples["a"]) == 2


def test_csv_has_one_row_per_name_plus_aggregate(tmp_path: Path) -> None:
    metrics = TtsMetrics()
    metrics.record("x", 0.1, 0.2, 1.0)
    path = tmp_path / "m.csv"
    metrics.write_csv(path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["name"] for r in rows] == ["x", ALL]
    assert float(rows[0]["rtf_p50"]) == pytest.approx(0.2)
    assert "x" in metrics.table()
