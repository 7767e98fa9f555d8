"""Compressed encoders: MP3 (LAME), Opus in OGG and AAC in ADTS through PyAV (FFmpeg), which
emit their bytes as audio arrives; FLAC and OGG Vorbis through soundfile, written whole.

Why PyAV for the streamed codecs (measured with soundfile 0.14 / libsndfile 1.2.2): libsndfile
does stream MP3 into a file object, but on close it seeks back to offset 0 to rewrite its
LAME/Xing header (288 bytes), which a response already sent cannot take; and it pages OGG Opus
about once per second.  PyAV writes to a non-seekable sink without seeking, takes an OGG page
duration (100 ms here), and also has AAC.  For whole MP3 files it writes to a seekable buffer,
so the Xing/LAME header carries the encoder delay and padding: decoders then return exactly
the input's length (a streamed MP3 decodes about one frame longer, as any streamed MP3 does)."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from frontend.audio.formats import AudioFormat

_MUXERS = {AudioFormat.MP3: "mp3", AudioFormat.OGG_OPUS: "ogg", AudioFormat.AAC: "adts"}
_CODECS = {AudioFormat.MP3: "libmp3lame", AudioFormat.OGG_OPUS: "libopus", AudioFormat.AAC: "aac"}
# Muxer options: no ID3 tag before the MP3 frames (nothing to say; players start at once);
# OGG pages every 100 ms so that a streamed page is never held back for long.
_MUXER_OPTIONS = {
    AudioFormat.MP3: {"id3v2_version": "0", "write_id3v1": "0"},
    AudioFormat.OGG_OPUS: {"page_duration": "100000"},
    AudioFormat.AAC: {},
}
# Mono speech bit rates (bit/s) by sample rate: transparent enough for speech, small enough
# for telephony and mobile links.
_BIT_RATES = {
    AudioFormat.MP3: {8_000: 16_000, 16_000: 32_000, 22_050: 48_000, 24_000: 48_000},
    AudioFormat.OGG_OPUS: {8_000: 16_000, 16_000: 24_000},
    AudioFormat.AAC: {8_000: 24_000, 16_000: 48_000, 22_050: 64_000, 24_000: 64_000},
}
_HIGH_RATE_BIT_RATES = {
    AudioFormat.MP3: 96_000,
    AudioFormat.OGG_OPUS: 32_000,
    AudioFormat.AAC: 96_000,
}
CODEC_FORMATS = frozenset(_CODECS)
SOUNDFILE_FORMATS = {AudioFormat.FLAC: ("FLAC", "PCM_16"), AudioFormat.OGG: ("OGG", "VORBIS")}


class _Sink(io.RawIOBase):
    """A write-only, non-seekable file for the muxer: what it writes is taken out piece by piece."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class CodecWriter:
    """One PyAV container + audio stream.  `seekable=False`: write() returns the bytes ready so
    far (streaming); `seekable=True`: everything comes from close(), with the muxer's final
    header (whole files)."""

    def __init__(self, fmt: AudioFormat, rate: int, *, seekable: bool = False) -> None:
        import av  # here: FFmpeg's libraries load in ~0.2 s, only for requests that need them

        self._av = av
        self._buffer: io.BytesIO | None = io.BytesIO() if seekable else None
        self._sink = _Sink()
        self._container = av.open(
            self._buffer if self._buffer is not None else self._sink,
            "w",
            format=_MUXERS[fmt],
            options=_MUXER_OPTIONS[fmt],
        )
        stream = self._container.add_stream(_CODECS[fmt], rate=rate)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "mono"
        stream.bit_rate = _BIT_RATES[fmt].get(rate, _HIGH_RATE_BIT_RATES[fmt])
        self._stream = stream
        self._rate = rate
        self._pts = 0

    def write(self, audio: np.ndarray) -> bytes:
        if audio.size:
            frame = self._av.AudioFrame.from_ndarray(
                np.ascontiguousarray(audio, np.float32)[None, :], format="flt", layout="mono"
            )
            frame.sample_rate = self._rate
            frame.pts = self._pts
            self._pts += int(audio.size)
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        return self._sink.take()

    def close(self) -> bytes:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        if self._buffer is not None:
            return self._buffer.getvalue()
        return self._sink.take()


def soundfile_encode(audio: np.ndarray, rate: int, fmt: AudioFormat) -> bytes:
    """A whole FLAC (16-bit) or OGG Vorbis file."""
    container, subtype = SOUNDFILE_FORMATS[fmt]
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(audio, np.float32), rate, format=container, subtype=subtype)
    return buffer.getvalue()
