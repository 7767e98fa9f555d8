"""`make bench`: the TTS pipeline under five deployments, side by side (docs/bench.md)."""
