import numpy as np
import pytest

from mandarin_tts import contract as c
from mandarin_tts.serving.ort_session import OrtSettings, available_chain, provider_chain
from mandarin_tts.serving.probe import ProbeError, Synthesis, check_speech, count_syllables

SR = c.OUTPUT_SAMPLE_RATE


def tone(seconds, amplitude=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_count_syllables_counts_han_characters():
    assert count_syllables("你好，世界！abc 123") == 4


def test_plausible_speech_passes():
    check_speech(Synthesis(tone(1.2), SR), "你好世界")


@pytest.mark.parametrize(
    ("synthesis", "message"),
    [
        (Synthesis(tone(1.2), 22050), "sample rate"),
        (Synthesis(np.zeros(SR, np.float32), SR), "silent"),
        (Synthesis(tone(0.1), SR), "syllables"),
        (Synthesis(tone(9.0), SR), "syllables"),
        (Synthesis(np.array([], np.float32), SR), "shape"),
        (Synthesis(tone(1.0) * 4, SR), "range"),
    ],
)
def test_implausible_audio_fails(synthesis, message):
    with pytest.raises(ProbeError, match=message):
        check_speech(synthesis, "你好世界")


def test_provider_chain_falls_back_to_cpu():
    trt = provider_chain(OrtSettings(provider="tensorrt", fp16=True))
    assert [p[0] if isinstance(p, tuple) else p for p in trt] == [
        "TensorrtExecutionProvider",
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    assert trt[0][1]["trt_fp16_enable"] is True
    assert available_chain(trt, ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert provider_chain(OrtSettings()) == ["CPUExecutionProvider"]
