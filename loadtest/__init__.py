"""Benchmarks: scripts that print measured figures (no assertions)."""
