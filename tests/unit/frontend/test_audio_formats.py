"""Every output format and rate, decoded by two independent decoders (libsndfile through
soundfile, FFmpeg through PyAV): the requested rate, the length of the WAV of the same audio,
streams equal to whole files, and G.711 WAV files that decoders recognise as such."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf
from audio_decode_helpers import CODEC_SLACK_SAMPLES, pyav_decode, soundfile_decode

from frontend.assembly import to_pcm16
from frontend.audio.g711 import alaw_encode, ulaw_encode
from frontend.audio.resample import Resampler, resample
from frontend.encoding import (
    SAMPLE_RATES,
    UNKNOWN_SIZE,
    AudioFormat,
    delivered_rate,
    encode,
    open_encoder,
)

SOURCE_RATE = 16_000
SECONDS = 3.0
FORMATS = [f for f in AudioFormat if f is not AudioFormat.OPUS]  # OPUS is OGG_OPUS's alias
CASES = [(fmt, rate) for fmt in FORMATS for rate in fmt.rates]


def speech_like(seconds: float = SECONDS, rate: int = SOURCE_RATE) -> np.ndarray:
    """A voiced-speech stand-in: harmonics of a gliding 120-220 Hz pitch, syllable envelope."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 170 + 50 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    return (0.3 * voiced * envelope).astype(np.float32)


def stream(fmt: AudioFormat, audio: np.ndarray, rate: int, cuts: list[int]) -> list[bytes]:
    """The pieces a StreamEncoder returns for `audio` cut at `cuts`, then its close()."""
    encoder = open_encoder(fmt, SOURCE_RATE, rate)
    bounds = [0, *cuts, audio.size]
    pieces = [encoder.write(audio[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return [*pieces, encoder.close()]


@pytest.fixture(scope="module")
def audio() -> np.ndarray:
    return speech_like()


@pytest.mark.parametrize(("fmt", "rate"), CASES, ids=[f"{f.value}-{r}" for f, r in CASES])
def test_whole_files_decode_at_the_requested_rate_and_length(
    audio: np.ndarray, fmt: AudioFormat, rate: int
) -> None:
    wav_samples = sf.info(io.BytesIO(encode(audio, SOURCE_RATE, AudioFormat.WAV, rate))).frames
    assert wav_samples == round(audio.size * rate / SOURCE_RATE)
    body = encode(audio, SOURCE_RATE, fmt, rate)
    slack = CODEC_SLACK_SAMPLES.get(fmt.value, 0)
    if fmt is AudioFormat.PCM:
        assert body == to_pcm16(resample(audio, SOURCE_RATE, rate))
        return
    if fmt is not AudioFormat.AAC:  # libsndfile has no AAC
        sf_rate, sf_samples, _ = soundfile_decode(body)
        assert sf_rate == rate
        assert abs(sf_samples - wav_samples) <= 0.01 * wav_samples + slack
    av_rate, av_samples = pyav_decode(body)
    # Opus decodes at 48 kHz in FFmpeg whatever the input rate (libsndfile reports the header's).
    assert av_rate == (48_000 if fmt is AudioFormat.OGG_OPUS else rate)
    av_seconds, wav_seconds = av_samples / av_rate, wav_samples / rate
    assert abs(av_seconds - wav_seconds) <= 0.01 * wav_seconds + slack / rate


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.streamable], ids=lambda f: f.value)
def test_streams_are_independent_of_the_cuts_and_start_before_the_end(
    audio: np.ndarray, fmt: AudioFormat
) -> None:
    rate = 24_000
    one = stream(fmt, audio, rate, [])
    cut = stream(fmt, audio, rate, [1, 3001, 3002, 20_000, 31_999])
    assert b"".join(one) == b"".join(cut)  # resampler and codec state carry across writes
    # Bytes come out while audio is still being written, not only at close().
    assert sum(len(piece) for piece in cut[:-1]) > 0.5 * len(b"".join(cut))


@pytest.mark.parametrize(
    "fmt",
    [AudioFormat.WAV, AudioFormat.PCM, AudioFormat.MULAW, AudioFormat.ALAW],
    ids=lambda f: f.value,
)
@pytest.mark.parametrize("rate", [8_000, 22_050, 48_000])
def test_a_stream_carries_the_samples_of_the_whole_file(
    audio: np.ndarray, fmt: AudioFormat, rate: int
) -> None:
    streamed = b"".join(stream(fmt, audio, rate, [5000, 17_000]))
    whole = encode(audio, SOURCE_RATE, fmt, rate)
    header = {AudioFormat.WAV: 44, AudioFormat.PCM: 0}.get(fmt, 58)
    size = len(streamed) - header
    assert streamed[header:] == whole[header : header + size] and size > 0
    if fmt is not AudioFormat.PCM:
        assert struct.unpack_from("<I", streamed, 4)[0] == UNKNOWN_SIZE  # sizes unknown
        rate_read, samples, _ = soundfile_decode(streamed)  # libsndfile reads it to the end
        assert rate_read == rate and samples == size // (2 if fmt is AudioFormat.WAV else 1)


@pytest.mark.parametrize(("fmt", "subtype", "tag"), [("mulaw", "ULAW", 7), ("alaw", "ALAW", 6)])
def test_g711_wav_is_recognised_as_such(
    audio: np.ndarray, fmt: str, subtype: str, tag: int
) -> None:
    chosen = AudioFormat(fmt)
    rate = delivered_rate(chosen, SOURCE_RATE, None)
    assert rate == 8_000  # telephony: 8 kHz unless asked otherwise
    body = encode(audio[:-2], SOURCE_RATE, chosen)  # an odd length: the pad byte case
    info = sf.info(io.BytesIO(body))
    assert (info.format, info.subtype, info.samplerate) == ("WAV", subtype, 8_000)
    assert chosen.content_type == "audio/wav"
    fmt_tag, channels, sample_rate, byte_rate, align, bits = struct.unpack_from("<HHIIHH", body, 20)
    assert (fmt_tag, channels, sample_rate, byte_rate, align, bits) == (tag, 1, 8000, 8000, 1, 8)
    riff_size, data_size = (
        struct.unpack_from("<I", body, 4)[0],
        struct.unpack_from("<I", body, 54)[0],
    )
    assert body[38:42] == b"fact" and body[50:54] == b"data"
    assert riff_size == len(body) - 8 and data_size % 2 == 1 and len(body) % 2 == 0
    # Decoded, it is the input within G.711's quantisation (about 1/32 of the magnitude).
    decoded, _ = sf.read(io.BytesIO(body), dtype="float32")
    reference = resample(audio[:-2], SOURCE_RATE, 8_000)
    assert decoded.size == reference.size
    assert np.max(np.abs(decoded - reference)) < 0.04 * np.max(np.abs(reference)) + 1e-3


@pytest.mark.parametrize(
    ("coder", "subtype"), [(ulaw_encode, "ULAW"), (alaw_encode, "ALAW")], ids=["ulaw", "alaw"]
)
def test_g711_codes_agree_with_libsndfile(coder: object, subtype: str) -> None:
    ramp = np.linspace(-1, 1, 65_537).astype(np.float32)
    ours = np.frombuffer(coder(ramp), np.uint8)  # type: ignore[operator]
    reference = io.BytesIO()
    sf.write(reference, ramp, 8000, format="RAW", subtype=subtype)
    theirs = np.frombuffer(reference.getvalue(), np.uint8)
    # The same code, or the neighbouring level where libsndfile rounds the 16-bit input apart.
    assert np.mean(ours == theirs) > 0.95
    options = {"samplerate": 8000, "channels": 1, "format": "RAW", "subtype": subtype}
    levels = [
        sf.read(io.BytesIO(codes.tobytes()), dtype="float32", **options)[0]
        for codes in (ours, theirs)
    ]
    assert np.all(np.abs(levels[0] - levels[1]) <= 0.07 * np.abs(ramp) + 1e-3)


def test_resampling_is_seamless_and_band_limited() -> None:
    rng = np.random.default_rng(1)
    noise = (0.1 * rng.standard_normal(48_000)).astype(np.float32)
    resampler = Resampler(16_000, 22_050)
    pieces = [resampler.push(noise[a:b]) for a, b in ((0, 7), (7, 16_000), (16_000, 48_000))]
    assert np.array_equal(
        np.concatenate([*pieces, resampler.flush()]), resample(noise, 16_000, 22_050)
    )
    t = np.arange(16_000) / 16_000
    kept = resample(np.sin(2 * np.pi * 1000 * t).astype(np.float32), 16_000, 8_000)
    aliased = resample(np.sin(2 * np.pi * 6000 * t).astype(np.float32), 16_000, 8_000)
    assert kept.size == 8_000 and np.std(kept[500:-500]) == pytest.approx(np.sqrt(0.5), rel=0.01)
    assert np.std(aliased[500:-500]) < 0.01  # above the new Nyquist: filtered, not folded


def test_rates_defaults_and_media_types() -> None:
    assert SAMPLE_RATES == (8_000, 16_000, 22_050, 24_000, 44_100, 48_000)
    assert AudioFormat.OGG_OPUS.rates == (8_000, 16_000, 24_000, 48_000)
    assert AudioFormat.OPUS is AudioFormat.OGG_OPUS  # the older member name
    assert delivered_rate(AudioFormat.OGG_OPUS, 22_050, None) == 48_000
    assert delivered_rate(AudioFormat.OGG_OPUS, 16_000, None) == 16_000
    assert delivered_rate(AudioFormat.MP3, 16_000, None) == 16_000
    assert delivered_rate(AudioFormat.MP3, 16_000, 44_100) == 44_100
    assert {f.value for f in AudioFormat if not f.streamable} == {"flac", "ogg"}
    assert AudioFormat.MP3.content_type == "audio/mpeg"
    assert AudioFormat.OGG_OPUS.content_type == "audio/ogg; codecs=opus"
    assert AudioFormat.AAC.content_type == "audio/aac"
    # ADTS, whose frames start with the 12-bit sync word.
    assert encode(speech_like(0.5), SOURCE_RATE, AudioFormat.AAC, 24_000)[:2] == b"\xff\xf1"


def test_streamed_mp3_is_longer_by_at_most_the_codec_delay_and_whole_mp3_is_exact(
    audio: np.ndarray,
) -> None:
    rate = 24_000
    expected = round(audio.size * rate / SOURCE_RATE)
    whole_rate, whole = pyav_decode(encode(audio, SOURCE_RATE, AudioFormat.MP3, rate))
    streamed_rate, streamed = pyav_decode(b"".join(stream(AudioFormat.MP3, audio, rate, [9000])))
    assert whole_rate == streamed_rate == rate and whole == expected
    assert 0 < streamed - expected <= CODEC_SLACK_SAMPLES["mp3_stream"]
