"""System 1, the ceiling: the same ONNX pipeline (text frontend -> acoustic -> vocoder)
called in-process, no server. Concurrent callers share the two onnxruntime sessions."""

from __future__ import annotations

from benchmarks.system.under_test import no_streaming
from mandarin_tts.serving.tune.memory import peak_rss_mb


class InProcess:
    name = "inprocess"
    description = "in-process ONNX (ceiling)"

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads

    def start(self) -> None:
        from benchmarks._synthesis import served_pipeline

        self._pipeline = served_pipeline(self.threads)

    def synthesize(self, text: str) -> float:
        audio = self._pipeline.synthesize(text)
        return audio.size / self._pipeline.sample_rate

    def peak_memory_mb(self) -> float:
        return peak_rss_mb()

    first_audio_s = staticmethod(no_streaming)

    def stop(self) -> None:
        pass
