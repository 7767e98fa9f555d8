"""Scoring helpers for benchmarks: offline Whisper ASR and a toneless pinyin error rate."""
