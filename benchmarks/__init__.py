"""Benchmarks: the `make bench` system harness (system/) and micro-benchmarks (micro/)."""
