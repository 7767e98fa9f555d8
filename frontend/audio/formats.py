"""The audio formats the service delivers, their media types, and the sample rates each takes."""

from __future__ import annotations

import enum

# Rates a request may ask for (`sample_rate`): telephony, wideband, and the common media rates.
SAMPLE_RATES = (8_000, 16_000, 22_050, 24_000, 44_100, 48_000)
# Opus itself codes only these; a request for another rate is refused, a voice at another rate
# is delivered at 48 kHz.
OPUS_RATES = frozenset({8_000, 12_000, 16_000, 24_000, 48_000})
OPUS_FALLBACK_RATE = 48_000
# G.711 is a telephone codec: without a requested rate it is delivered at 8 kHz.
G711_DEFAULT_RATE = 8_000


class AudioFormat(enum.Enum):
    WAV = "wav"  # 16-bit PCM in WAV
    PCM = "pcm"  # raw 16-bit little-endian mono
    FLAC = "flac"
    MP3 = "mp3"
    OGG_OPUS = "ogg_opus"
    MULAW = "mulaw"  # G.711 mu-law in WAV (WAVE_FORMAT_MULAW)
    ALAW = "alaw"  # G.711 A-law in WAV (WAVE_FORMAT_ALAW)
    AAC = "aac"  # AAC-LC in ADTS (the OpenAI route's `aac`)
    OGG = "ogg"  # OGG Vorbis (older name on /v1/tts, kept)
    OPUS = "ogg_opus"  # the older member name: an alias of OGG_OPUS

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]

    @property
    def streamable(self) -> bool:
        """Whether its bytes can go out as the audio is produced (FLAC and Vorbis are written
        whole: their headers need the finished stream)."""
        return self not in (AudioFormat.FLAC, AudioFormat.OGG)

    @property
    def rates(self) -> tuple[int, ...]:
        """The requestable sample rates this format can carry."""
        if self is AudioFormat.OGG_OPUS:
            return tuple(rate for rate in SAMPLE_RATES if rate in OPUS_RATES)
        return SAMPLE_RATES

    def default_rate(self, voice_rate: int) -> int:
        """The delivered rate when the request names none."""
        if self in (AudioFormat.MULAW, AudioFormat.ALAW):
            return G711_DEFAULT_RATE
        if self is AudioFormat.OGG_OPUS and voice_rate not in OPUS_RATES:
            return OPUS_FALLBACK_RATE
        return voice_rate


_CONTENT_TYPES = {
    AudioFormat.WAV: "audio/wav",
    AudioFormat.PCM: "application/octet-stream",
    AudioFormat.FLAC: "audio/flac",
    AudioFormat.MP3: "audio/mpeg",
    AudioFormat.OGG_OPUS: "audio/ogg; codecs=opus",
    # audio/basic is headerless 8 kHz mu-law; these are WAV files.
    AudioFormat.MULAW: "audio/wav",
    AudioFormat.ALAW: "audio/wav",
    AudioFormat.AAC: "audio/aac",
    AudioFormat.OGG: "audio/ogg",
}


def delivered_rate(fmt: AudioFormat, voice_rate: int, requested: int | None) -> int:
    """The sample rate of the response: the requested one (validated against fmt.rates by the
    request parser), else the format's default for this voice."""
    return requested if requested is not None else fmt.default_rate(voice_rate)
