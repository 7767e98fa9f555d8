"""End-to-end probe: one real synthesis through the `tts` ensemble.

Readiness alone is not enough on Triton 2.51: a crashed Python stub is not restarted and
/v2/health/ready keeps answering 200, so the launcher (and tests) synthesize a sentence.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.serving.tts_inputs import build_inputs, result_audio
from mandarin_tts.voices.manifest import VoiceManifest
from mandarin_tts.voices.registry import BUNDLED_VOICE, ensemble_name

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


def check_speech(
    result: Synthesis, text: str, sample_rate: int = c.OUTPUT_SAMPLE_RATE, speech: bool = True
) -> None:
    """Audio at `sample_rate`, finite and in range; with `speech`, also audible and of a
    plausible length for `text` (off for voices whose weights are not trained speech)."""
    audio = result.audio
    if result.sample_rate != sample_rate:
        raise ProbeError(f"sample rate {result.sample_rate}, expected {sample_rate}")
    if audio.ndim != 1 or audio.size == 0:
        raise ProbeError(f"audio has shape {audio.shape}")
    if not np.isfinite(audio).all() or np.abs(audio).max() > 1.0 + 1e-4:
        raise ProbeError("audio holds non-finite or out-of-range samples")
    if not speech:
        return
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


def synthesize_http(
    url: str,
    text: str,
    speed: float | None = None,
    timeout_s: float = 60.0,
    model: str = c.MODEL_ENSEMBLE,
) -> Synthesis:
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(
        url, connection_timeout=timeout_s, network_timeout=timeout_s
    )
    try:
        result = client.infer(model, build_inputs(httpclient, text, speed))
    finally:
        client.close()
    audio, sample_rate = result_audio(result)
    return Synthesis(audio=audio, sample_rate=sample_rate)


def is_live(http_url: str, timeout_s: float = 2.0) -> bool:
    """Triton answers /v2/health/live with 200 within `timeout_s`. Its HTTP threads answer
    this however busy the models are, so only a hung or dead server fails it."""
    try:
        with urllib.request.urlopen(f"http://{http_url}/v2/health/live", timeout=timeout_s) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def probe(
    http_url: str,
    text: str = PROBE_TEXT,
    speed: float | None = None,
    model: str = c.MODEL_ENSEMBLE,
    sample_rate: int = c.OUTPUT_SAMPLE_RATE,
    speech: bool = True,
    timeout_s: float = 60.0,
) -> Synthesis:
    result = synthesize_http(http_url, text, speed, timeout_s=timeout_s, model=model)
    check_speech(result, text, sample_rate, speech)
    return result


def probe_voice(http_url: str, voice: VoiceManifest, text: str = PROBE_TEXT) -> Synthesis:
    """One synthesis through a voice's ensemble. Only the bundled voice is known to speak;
    an imported voice is checked for audio at its own rate (its weights may be anything)."""
    return probe(
        http_url,
        text,
        model=ensemble_name(voice.name),
        sample_rate=voice.sample_rate,
        speech=voice.name == BUNDLED_VOICE,
    )
