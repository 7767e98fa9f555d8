"""What the two Triton examples share: one sentence to the `tts` ensemble with tritonclient,
whose grpc and http modules have the same InferInput / infer / as_numpy API. Every input is
a [1, 1] tensor: TEXT as BYTES (UTF-8), each control as FP32; what is not sent takes the
ensemble's default. Text over contract.TEXT_MAX_CHARS must be chunked (see the frontend).

    python -m client.examples.triton_grpc [127.0.0.1:8001]   # PITCH 1.1 -> hello_grpc.wav
    python -m client.examples.triton_http [127.0.0.1:8000]   # SPEED 1.0 -> hello_http.wav
"""

import importlib
import sys
from typing import Any

import numpy as np
import soundfile as sf

from mandarin_tts import contract

# protocol: (default URL, text, FP32 controls, output file, infer() options)
EXAMPLES: dict[str, tuple[str, str, dict[str, float], str, dict[str, Any]]] = {
    # gRPC calls have no deadline by default: give one (seconds).
    "grpc": (
        "127.0.0.1:8001",
        "今天天气真好，适合出去散步。",
        {contract.TTS_IN_PITCH: 1.1},
        "hello_grpc.wav",
        {"client_timeout": 120},
    ),
    "http": (
        "127.0.0.1:8000",
        "欢迎使用中文语音合成服务。",
        {contract.TTS_IN_SPEED: 1.0},
        "hello_http.wav",
        {},
    ),
}


def main(protocol: str) -> None:
    """Run the `protocol` example against the URL on the command line (or its default)."""
    default_url, text, controls, out, infer_options = EXAMPLES[protocol]
    tritonclient = importlib.import_module(f"tritonclient.{protocol}")
    url = sys.argv[1] if len(sys.argv) > 1 else default_url
    client = tritonclient.InferenceServerClient(url)
    text_input = tritonclient.InferInput(contract.TTS_IN_TEXT, [1, 1], "BYTES")
    text_input.set_data_from_numpy(np.array([[text.encode()]], dtype=np.object_))
    inputs = [text_input]
    for name, value in controls.items():
        control = tritonclient.InferInput(name, [1, 1], "FP32")
        control.set_data_from_numpy(np.array([[value]], np.float32))
        inputs.append(control)
    result = client.infer(contract.MODEL_ENSEMBLE, inputs, **infer_options)
    audio = result.as_numpy(contract.TTS_OUT_AUDIO).ravel()
    rate = int(result.as_numpy(contract.TTS_OUT_SAMPLE_RATE).ravel()[0])
    sf.write(out, audio, rate, subtype="PCM_16")
    print(f"{audio.size / rate:.2f} s at {rate} Hz")
