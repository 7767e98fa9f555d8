"""Audio delivery formats: every format and rate through one streaming interface.

`open_encoder(fmt, source_rate, target_rate)` gives a StreamEncoder: `write(float audio)`
returns the bytes ready so far, `close()` the rest (trailer, resampler tail).  `encode()` makes
a whole file from the same samples.  Resampling is soxr's, stateful across writes, so pieces
join seamlessly and a stream carries exactly the samples of the whole file.

  wav / pcm        16-bit PCM (WAV header with unknown sizes when streamed)
  mulaw / alaw     G.711 in WAV (8 kHz unless a rate is asked for)
  mp3, ogg_opus,   PyAV encoders (frontend/audio/codecs.py says why PyAV), streamable
  aac (ADTS)
  flac, ogg        soundfile, whole files only (OGG Vorbis is the older `ogg` of /v1/tts)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from frontend.assembly import to_pcm16
from frontend.audio.codecs import CODEC_FORMATS, CodecWriter, soundfile_encode
from frontend.audio.formats import (
    OPUS_FALLBACK_RATE,
    OPUS_RATES,
    SAMPLE_RATES,
    AudioFormat,
    delivered_rate,
)
from frontend.audio.g711 import alaw_encode, ulaw_encode
from frontend.audio.resample import Resampler, resample
from frontend.audio.wav import (
    UNKNOWN_SIZE,
    WAVE_FORMAT_ALAW,
    WAVE_FORMAT_MULAW,
    g711_wav_header,
    wav_header,
)

__all__ = [
    "OPUS_FALLBACK_RATE",
    "OPUS_RATES",
    "SAMPLE_RATES",
    "UNKNOWN_SIZE",
    "AudioFormat",
    "StreamEncoder",
    "delivered_rate",
    "encode",
    "encoded_rate",
    "open_encoder",
    "resample",
    "wav_header",
]


class StreamEncoder(Protocol):
    def write(self, audio: np.ndarray) -> bytes:
        """Encode float32 mono audio in [-1, 1] at the source rate; the bytes ready now."""
        ...

    def close(self) -> bytes:
        """The remaining bytes (resampler tail, encoder flush, trailer)."""
        ...


_SampleCoder = Callable[[np.ndarray], bytes]
_HeaderFn = Callable[[int | None, int], bytes]


def _g711_header(format_tag: int) -> _HeaderFn:
    return lambda samples, rate: g711_wav_header(samples, rate, format_tag)


# Formats of one code per sample: how samples become bytes, and their WAV header (None: raw).
_SAMPLE_FORMATS: dict[AudioFormat, tuple[_SampleCoder, _HeaderFn | None]] = {
    AudioFormat.WAV: (to_pcm16, wav_header),
    AudioFormat.PCM: (to_pcm16, None),
    AudioFormat.MULAW: (ulaw_encode, _g711_header(WAVE_FORMAT_MULAW)),
    AudioFormat.ALAW: (alaw_encode, _g711_header(WAVE_FORMAT_ALAW)),
}


class _SampleEncoder:
    """WAV / raw PCM / G.711: the header (unknown sizes) with the first bytes, then samples."""

    def __init__(self, fmt: AudioFormat, source_rate: int, target_rate: int) -> None:
        self._coder, header = _SAMPLE_FORMATS[fmt]
        self._pending = header(None, target_rate) if header is not None else b""
        self._resampler = Resampler(source_rate, target_rate)

    def _out(self, audio: np.ndarray) -> bytes:
        data = self._pending + self._coder(audio)
        self._pending = b""
        return data

    def write(self, audio: np.ndarray) -> bytes:
        return self._out(self._resampler.push(audio))

    def close(self) -> bytes:
        return self._out(self._resampler.flush())


class _CodecEncoder:
    """MP3 / Opus / AAC through PyAV, fed resampled audio as it comes."""

    def __init__(
        self, fmt: AudioFormat, source_rate: int, target_rate: int, *, whole: bool = False
    ) -> None:
        self._resampler = Resampler(source_rate, target_rate)
        self._writer = CodecWriter(fmt, target_rate, seekable=whole)

    def write(self, audio: np.ndarray) -> bytes:
        return self._writer.write(self._resampler.push(audio))

    def close(self) -> bytes:
        tail = self._writer.write(self._resampler.flush())
        return tail + self._writer.close()


class _WholeFileEncoder:
    """FLAC / OGG Vorbis: collects the audio, writes the file on close."""

    def __init__(self, fmt: AudioFormat, source_rate: int, target_rate: int) -> None:
        self._fmt, self._rate = fmt, target_rate
        self._resampler = Resampler(source_rate, target_rate)
        self._parts: list[np.ndarray] = []

    def write(self, audio: np.ndarray) -> bytes:
        self._parts.append(self._resampler.push(audio))
        return b""

    def close(self) -> bytes:
        self._parts.append(self._resampler.flush())
        return soundfile_encode(np.concatenate(self._parts), self._rate, self._fmt)


def open_encoder(fmt: AudioFormat, source_rate: int, target_rate: int) -> StreamEncoder:
    """A streaming encoder from `source_rate` float audio to `fmt` at `target_rate`.  Formats
    that are not streamable (fmt.streamable) return everything from close()."""
    if fmt in _SAMPLE_FORMATS:
        return _SampleEncoder(fmt, source_rate, target_rate)
    if fmt in CODEC_FORMATS:
        return _CodecEncoder(fmt, source_rate, target_rate)
    return _WholeFileEncoder(fmt, source_rate, target_rate)


def encode(
    audio: np.ndarray, source_rate: int, fmt: AudioFormat, target_rate: int | None = None
) -> bytes:
    """A whole file of float audio in [-1, 1]: the samples a stream of the same audio carries,
    with exact sizes in the header (WAV, G.711) or the MP3 gapless header.
    `target_rate` None = the format's default for `source_rate` (AudioFormat.default_rate)."""
    rate = delivered_rate(fmt, source_rate, target_rate)
    if fmt in _SAMPLE_FORMATS:
        coder, header = _SAMPLE_FORMATS[fmt]
        samples = resample(audio, source_rate, rate)
        body = coder(samples)
        if header is None:
            return body
        pad = b"\0" if fmt in (AudioFormat.MULAW, AudioFormat.ALAW) and len(body) % 2 else b""
        return header(int(samples.size), rate) + body + pad
    encoder: StreamEncoder
    if fmt is AudioFormat.MP3:
        encoder = _CodecEncoder(fmt, source_rate, rate, whole=True)
    else:
        encoder = open_encoder(fmt, source_rate, rate)
    return encoder.write(audio) + encoder.close()


def encoded_rate(sample_rate: int, fmt: AudioFormat) -> int:
    """The sample rate of `fmt` audio made from `sample_rate` audio with no rate requested."""
    return fmt.default_rate(sample_rate)
