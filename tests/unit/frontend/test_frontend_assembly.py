"""WAV assembly: header, sample counts, pauses, fades (no clicks), volume, encodings."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf
from frontend_helpers import SAMPLE_RATE, tone

from frontend.assembly import Assembler, PausePlan, apply_fades, apply_volume, to_pcm16, trim_edges
from frontend.chunking import Pause
from frontend.encoding import UNKNOWN_SIZE, AudioFormat, encode, wav_header


def _assemble(chunks: list[np.ndarray], pauses: list[Pause], speed: float = 1.0) -> np.ndarray:
    assembler = Assembler(SAMPLE_RATE, speed)
    return np.concatenate(
        [
            assembler.piece(a, p, i == len(chunks) - 1)
            for i, (a, p) in enumerate(zip(chunks, pauses, strict=True))
        ]
    )


def test_pause_lengths_follow_punctuation_and_speed() -> None:
    plan = PausePlan()
    samples = [plan.pause_samples(p, SAMPLE_RATE) for p in Pause]
    assert samples == sorted(samples) and samples[0] == 0
    assert plan.pause_samples(Pause.SENTENCE, SAMPLE_RATE) > plan.pause_samples(
        Pause.CLAUSE, SAMPLE_RATE
    )
    assert plan.pause_samples(Pause.CLAUSE, SAMPLE_RATE) > plan.pause_samples(
        Pause.SHORT, SAMPLE_RATE
    )
    assert plan.pause_samples(Pause.SENTENCE, SAMPLE_RATE, speed=2.0) == pytest.approx(
        plan.pause_samples(Pause.SENTENCE, SAMPLE_RATE) / 2, abs=1
    )


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0])
def test_sample_count_is_sum_of_chunks_and_pauses(speed: float) -> None:
    lengths = [1600, 3200, 800, 4000]
    pauses = [Pause.CLAUSE, Pause.SENTENCE, Pause.NONE, Pause.SENTENCE]
    out = _assemble([tone(n) for n in lengths], pauses, speed)
    plan = PausePlan()
    expected = sum(lengths) + sum(plan.pause_samples(p, SAMPLE_RATE, speed) for p in pauses[:-1])
    assert out.size == expected  # loud tones: nothing trimmed; no pause after the last chunk


def test_edge_silence_is_trimmed_to_a_margin() -> None:
    plan = PausePlan()
    keep = round(plan.keep_ms / 1000 * SAMPLE_RATE)
    body = tone(1000)
    padded = np.concatenate([np.zeros(5000, np.float32), body, np.zeros(7000, np.float32)])
    trimmed = trim_edges(padded, plan.trim_threshold, keep)
    assert trimmed.size == body.size + 2 * keep
    assert trim_edges(np.zeros(100, np.float32), plan.trim_threshold, keep).size == 0


def test_joins_have_no_clicks() -> None:
    # Loud tones that end and start at opposite extremes: a raw join jumps by ~1.6.
    a, b = tone(4000, 0.8, 200.0), -tone(4000, 0.8, 200.0)
    raw = np.concatenate([a, b])
    assert np.max(np.abs(np.diff(raw))) > 1.5
    for pause in (Pause.NONE, Pause.CLAUSE):
        out = _assemble([a, b, a], [pause, pause, Pause.SENTENCE])
        # Largest sample step anywhere: bounded by the tone's own slope (2*pi*f*A/fs ~ 0.063).
        max_step = float(np.max(np.abs(np.diff(out))))
        assert max_step < 0.08, (pause, max_step)
        assert out[0] == 0.0 and out[-1] == 0.0


def test_fades_reach_zero_at_edges_and_keep_the_middle() -> None:
    audio = np.ones(1000, np.float32)
    faded = apply_fades(audio, 100)
    assert faded[0] == 0.0 and faded[-1] == 0.0
    assert np.all(faded[100:900] == 1.0)
    assert np.all(np.diff(faded[:100]) >= 0)


def test_volume_gain_and_clipping() -> None:
    audio = np.array([0.25, -0.75, 0.9], np.float32)
    assert np.allclose(apply_volume(audio, 0.0), 0.0)
    assert np.allclose(apply_volume(audio, 2.0), [0.5, -1.0, 1.0])


def test_pcm16_conversion() -> None:
    pcm = np.frombuffer(to_pcm16(np.array([0.0, 1.0, -1.0, 2.0], np.float32)), "<i2")
    assert pcm.tolist() == [0, 32767, -32767, 32767]


def test_wav_header_fields() -> None:
    header = wav_header(16000, SAMPLE_RATE)
    assert len(header) == 44
    riff, size, wave, fmt, _, codec, channels, rate, byte_rate, align, bits, data, data_size = (
        struct.unpack("<4sI4s4sIHHIIHH4sI", header)
    )
    assert (riff, wave, fmt, data) == (b"RIFF", b"WAVE", b"fmt ", b"data")
    assert (codec, channels, rate, byte_rate, align, bits) == (1, 1, SAMPLE_RATE, 32000, 2, 16)
    assert data_size == 32000 and size == 36 + 32000
    assert struct.unpack_from("<I", wav_header(None, SAMPLE_RATE), 40)[0] == UNKNOWN_SIZE


def test_assembled_wav_reads_back_with_the_same_samples() -> None:
    out = _assemble([tone(1600), tone(2400)], [Pause.SENTENCE, Pause.SENTENCE])
    wav = encode(out, SAMPLE_RATE, AudioFormat.WAV)
    data, rate = sf.read(io.BytesIO(wav), dtype="int16")
    assert rate == SAMPLE_RATE and data.size == out.size
    assert np.array_equal(data, np.frombuffer(to_pcm16(out), "<i2"))


@pytest.mark.parametrize(
    ("fmt", "container"),
    [(AudioFormat.FLAC, "FLAC"), (AudioFormat.OGG, "OGG"), (AudioFormat.OPUS, "OGG")],
)
def test_compressed_formats_decode(fmt: AudioFormat, container: str) -> None:
    audio = tone(SAMPLE_RATE // 2, 0.5)
    blob = encode(audio, SAMPLE_RATE, fmt)
    info = sf.info(io.BytesIO(blob))
    assert info.format == container and info.samplerate in (SAMPLE_RATE, 48000)
    data, _ = sf.read(io.BytesIO(blob), dtype="float32")
    assert abs(data.size / info.samplerate - 0.5) < 0.05
    assert float(np.max(np.abs(data))) > 0.3


def test_pcm_format_is_raw_samples() -> None:
    audio = tone(100)
    assert encode(audio, SAMPLE_RATE, AudioFormat.PCM) == to_pcm16(audio)


@pytest.mark.parametrize(("rate", "expected"), [(16000, 16000), (24000, 24000), (22050, 48000)])
def test_opus_keeps_supported_rates_and_resamples_others(rate: int, expected: int) -> None:
    from frontend.encoding import AudioFormat, encode, encoded_rate

    seconds = 0.5
    t = np.arange(int(rate * seconds)) / rate
    audio = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    body = encode(audio, rate, AudioFormat.OPUS)
    info = sf.info(io.BytesIO(body))
    assert encoded_rate(rate, AudioFormat.OPUS) == expected == info.samplerate
    assert info.duration == pytest.approx(seconds, abs=0.03)
    # WAV and FLAC keep any rate.
    assert sf.info(io.BytesIO(encode(audio, rate, AudioFormat.FLAC))).samplerate == rate
