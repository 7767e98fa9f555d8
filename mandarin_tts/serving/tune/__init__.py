"""Per-tier tuning: sweep instances, threads and batcher delay; docs/tuning.md."""
