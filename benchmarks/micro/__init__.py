"""Micro-benchmarks: one model, stage or strategy at a time (`python -m benchmarks.micro.NAME`)."""
