"""End-to-end probe: one real synthesis through the `tts` ensemble.

Readiness alone is not enough on Triton 2.51: a crashed Python stub is not restarted and
/v2/health/ready keeps answering 200, so the launcher (and tests) synthesize a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mandarin_tts import contract as c

PROBE_TEXT = "你好，欢迎使用语音合成服务。"
# Generous bounds on Mandarin speaking rate: ~2.5-8 syllables per second.
MIN_SECONDS_PER_SYLLABLE = 0.12
MAX_SECONDS_PER_SYLLABLE = 0.45
MIN_RMS = 1e-3


class ProbeError(RuntimeError):
    """The synthesized audio is missing, silent or implausible."""


@dataclass(frozen=True)
class Synthesis:
    audio: np.ndarray
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.sample_rate


def count_syllables(text: str) -> int:
    """Han characters are one syllable each (digits etc. are ignored: a lower bound)."""
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")


def check_speech(result: Synthesis, text: str) -> None:
    audio = result.audio
    if result.sample_rate != c.OUTPUT_SAMPLE_RATE:
        raise ProbeError(f"sample rate {result.sample_rate}, expected {c.OUTPUT_SAMPLE_RATE}")
    if audio.ndim != 1 or audio.size == 0:
        raise ProbeError(f"audio has shape {audio.shape}")
    if not np.isfinite(audio).all() or np.abs(audio).max() > 1.0 + 1e-4:
        raise ProbeError("audio holds non-finite or out-of-range samples")
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    if rms < MIN_RMS:
        raise ProbeError(f"audio is silent (rms {rms:.2e})")
    syllables = count_syllables(text)
    if syllables:
        low, high = syllables * MIN_SECONDS_PER_SYLLABLE, syllables * MAX_SECONDS_PER_SYLLABLE + 1.0
        if not low <= result.seconds <= high:
            raise ProbeError(
                f"{result.seconds:.2f} s for {syllables} syllables, expected {low:.1f}-{high:.1f} s"
            )


def http_inputs(text: str, speed: float | None = None) -> list:
    import tritonclient.http as httpclient

    text_in = httpclient.InferInput(c.TTS_IN_TEXT, [1, 1], "BYTES")
    text_in.set_data_from_numpy(np.array([[text.encode("utf-8")]], dtype=object))
    inputs = [text_in]
    if speed is not None:
        speed_in = httpclient.InferInput(c.TTS_IN_SPEED, [1, 1], "FP32")
        speed_in.set_data_from_numpy(np.array([[speed]], dtype=np.float32))
        inputs.append(speed_in)
    return inputs


def synthesize_http(
    url: str, text: str, speed: float | None = None, timeout_s: float = 60.0
) -> Synthesis:
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(
        url, connection_timeout=timeout_s, network_timeout=timeout_s
    )
    try:
        result = client.infer(c.MODEL_ENSEMBLE, http_inputs(text, speed))
    finally:
        client.close()
    return Synthesis(
        audio=result.as_numpy(c.TTS_OUT_AUDIO).reshape(-1),
        sample_rate=int(result.as_numpy(c.TTS_OUT_SAMPLE_RATE).reshape(-1)[0]),
    )


def synthesize_grpc(url: str, text: str, timeout_s: float = 60.0) -> Synthesis:
    import tritonclient.grpc as grpcclient

    text_in = grpcclient.InferInput(c.TTS_IN_TEXT, [1, 1], "BYTES")
    text_in.set_data_from_numpy(np.array([[text.encode("utf-8")]], dtype=object))
    with grpcclient.InferenceServerClient(url) as client:
        result = client.infer(c.MODEL_ENSEMBLE, [text_in], client_timeout=timeout_s)
    return Synthesis(
        audio=result.as_numpy(c.TTS_OUT_AUDIO).reshape(-1),
        sample_rate=int(result.as_numpy(c.TTS_OUT_SAMPLE_RATE).reshape(-1)[0]),
    )


def probe(http_url: str, text: str = PROBE_TEXT, speed: float | None = None) -> Synthesis:
    result = synthesize_http(http_url, text, speed)
    check_speech(result, text)
    return result
