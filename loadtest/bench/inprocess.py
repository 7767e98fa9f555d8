"""System 1, the ceiling: the same ONNX pipeline (text frontend -> acoustic -> vocoder)
called in-process, no server. Concurrent callers share the two onnxruntime sessions."""

from __future__ import annotations

from loadtest.bench.memory import peak_rss_mb
from loadtest.bench.system import no_streaming
from mandarin_tts.contract import OUTPUT_SAMPLE_RATE


class InProcess:
    name = "inprocess"
    description = "in-process ONNX (ceiling)"

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads

    def start(self) -> None:
        from loadtest._synthesis import (
            OnnxAcoustic,
            OnnxVocoder,
            served_onnx_paths,
            symbol_ids_function,
        )

        _, self._ids_of = symbol_ids_function()
        acoustic_path, vocoder_path = served_onnx_paths()
        self._acoustic = OnnxAcoustic(acoustic_path, threads=self.threads)
        self._vocoder = OnnxVocoder(vocoder_path, threads=self.threads)

    def synthesize(self, text: str) -> float:
        audio = self._vocoder(self._acoustic(self._ids_of(text)))
        return audio.size / OUTPUT_SAMPLE_RATE

    def peak_memory_mb(self) -> float:
        return peak_rss_mb()

    first_audio_s = staticmethod(no_streaming)

    def stop(self) -> None:
        pass
