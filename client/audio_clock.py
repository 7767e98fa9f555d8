"""How many seconds of audio a byte stream holds so far, per delivery format (standard library
only): the progress bar counts audio time, which compressed bytes do not measure.

  wav, mulaw, alaw  the WAV header's format (bytes per sample, rate), then its data bytes
  pcm               2 bytes per sample at the response's X-Sample-Rate
  mp3               MPEG audio frame headers (samples per frame, sample rate)
  ogg_opus          Ogg page granule positions (48 kHz for Opus)
Other formats (flac, ogg) are not streamed: their progress is the download's.
"""

from __future__ import annotations

import struct
from typing import Protocol


class AudioClock(Protocol):
    def feed(self, data: bytes) -> float:
        """Add the next bytes; the seconds of audio received so far."""
        ...


class PcmClock:
    def __init__(self, sample_rate: int, bytes_per_sample: int = 2) -> None:
        self.rate, self.width, self.bytes = sample_rate, bytes_per_sample, 0

    def feed(self, data: bytes) -> float:
        self.bytes += len(data)
        return self.bytes // self.width / self.rate


class WavClock:
    """Any WAV (PCM 16-bit or 8-bit G.711): counts the data chunk's bytes once the header
    (with its fmt chunk) has arrived."""

    def __init__(self) -> None:
        self.head = b""
        self.data_start: int | None = None
        self.rate = self.block = 0
        self.bytes = 0

    def feed(self, data: bytes) -> float:
        if self.data_start is None:
            self.head += data
            self._parse()
            if self.data_start is None:
                return 0.0
            self.bytes = len(self.head) - self.data_start
        else:
            self.bytes += len(data)
        return self.bytes // max(self.block, 1) / max(self.rate, 1)

    def _parse(self) -> None:
        head, offset = self.head, 12
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        while offset + 8 <= len(head):
            kind, size = head[offset : offset + 4], struct.unpack_from("<I", head, offset + 4)[0]
            if kind == b"fmt " and offset + 24 <= len(head):
                self.rate = struct.unpack_from("<I", head, offset + 12)[0]
                self.block = struct.unpack_from("<H", head, offset + 20)[0]
            if kind == b"data":
                self.data_start = offset + 8
                return
            offset += 8 + size + size % 2


# MPEG audio: bitrates (kbit/s) of layer III by version, sample rates by version.
_MP3_BITRATES = {
    "1": (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    "2": (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


class Mp3Clock:
    """Counts whole MPEG-1/2/2.5 layer III frames (1152 or 576 samples each); skips an ID3v2
    tag and anything between frames."""

    def __init__(self) -> None:
        self.buffer = b""
        self.seconds = 0.0
        self.tag_checked = False

    def feed(self, data: bytes) -> float:
        buf = self.buffer + data
        if not self.tag_checked:  # an ID3v2 tag may come first
            if len(buf) < 10:
                self.buffer = buf
                return self.seconds
            if buf[:3] == b"ID3":
                size = (buf[6] << 21) | (buf[7] << 14) | (buf[8] << 7) | buf[9]
                if len(buf) < 10 + size:
                    self.buffer = buf
                    return self.seconds
                buf = buf[10 + size :]
            self.tag_checked = True
        i = 0
        while i + 4 <= len(buf):
            frame = self._frame(buf[i : i + 4])
            if frame is None:
                i += 1
                continue
            length, seconds = frame
            if i + length > len(buf):
                break
            self.seconds += seconds
            i += length
        self.buffer = buf[i:]
        return self.seconds

    @staticmethod
    def _frame(header: bytes) -> tuple[int, float] | None:
        if header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
            return None
        version = (header[1] >> 3) & 0b11
        layer = (header[1] >> 1) & 0b11
        bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 0b11
        if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
            return None  # reserved, not layer III, free format or bad values
        rate = _MP3_RATES[version][rate_index]
        bitrate = _MP3_BITRATES["1" if version == 3 else "2"][bitrate_index] * 1000
        padding = (header[2] >> 1) & 1
        samples = 1152 if version == 3 else 576
        return samples // 8 * bitrate // rate + padding, samples / rate


class OggClock:
    """The granule position of the last complete Ogg page (Opus counts at 48 kHz)."""

    def __init__(self, granule_rate: int = 48_000) -> None:
        self.buffer = b""
        self.rate = granule_rate
        self.seconds = 0.0

    def feed(self, data: bytes) -> float:
        self.buffer += data
        buf, i = self.buffer, 0
        while i + 27 <= len(buf):
            if buf[i : i + 4] != b"OggS":
                i += 1
                continue
            segments = buf[i + 26]
            if i + 27 + segments > len(buf):
                break
            length = 27 + segments + sum(buf[i + 27 : i + 27 + segments])
            if i + length > len(buf):
                break
            granule = struct.unpack_from("<q", buf, i + 6)[0]
            if granule > 0:
                self.seconds = granule / self.rate
            i += length
        self.buffer = buf[i:]
        return self.seconds


def audio_clock(fmt: str, sample_rate: int) -> AudioClock | None:
    """A clock for a streamed response of `fmt` (None: a format that is not streamed)."""
    if fmt in ("wav", "mulaw", "alaw"):
        return WavClock()
    if fmt == "pcm":
        return PcmClock(sample_rate)
    if fmt == "mp3":
        return Mp3Clock()
    if fmt in ("ogg_opus", "opus"):
        return OggClock()
    return None
