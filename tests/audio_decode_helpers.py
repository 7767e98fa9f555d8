"""Independent decoders for the audio-format tests (unit and integration): soundfile
(libsndfile) and PyAV (FFmpeg), each giving (sample rate, number of samples)."""

from __future__ import annotations

import io

import av
import soundfile as sf

# Codec delays that a container cannot signal (seconds = samples / rate):
# - AAC in ADTS: 1024 priming samples, plus up to one 1024-sample frame of end padding;
# - a *streamed* MP3 (no Xing/LAME header, which needs the finished file): 1105 samples of
#   encoder + decoder delay plus up to one frame (1152 samples; 576 below 32 kHz).
# Whole MP3 files carry that header, so decoders return their exact length.
CODEC_SLACK_SAMPLES = {"aac": 2 * 1024, "mp3_stream": 1105 + 1152}


def soundfile_decode(data: bytes) -> tuple[int, int, str]:
    """(rate, samples, subtype) as libsndfile reads the file."""
    info = sf.info(io.BytesIO(data))
    samples, _ = sf.read(io.BytesIO(data), dtype="float32")
    return int(info.samplerate), int(samples.shape[0]), str(info.subtype)


def pyav_decode(data: bytes) -> tuple[int, int]:
    """(rate, samples) as FFmpeg decodes the stream (Opus always decodes at 48 kHz)."""
    with av.open(io.BytesIO(data), mode="r") as container:
        rate, total = 0, 0
        for frame in container.decode(audio=0):
            rate = frame.sample_rate
            total += frame.samples
    return rate, total
