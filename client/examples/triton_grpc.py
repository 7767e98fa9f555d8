"""One sentence straight from Triton's `tts` ensemble over gRPC (tritonclient.grpc);
writes hello_grpc.wav.

    python -m client.examples.triton_grpc [127.0.0.1:8001]
"""

import sys

import numpy as np
import soundfile as sf
import tritonclient.grpc as grpcclient

from mandarin_tts import contract

url = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8001"
client = grpcclient.InferenceServerClient(url)
text = grpcclient.InferInput(contract.TTS_IN_TEXT, [1, 1], "BYTES")
text.set_data_from_numpy(np.array([["今天天气真好，适合出去散步。".encode()]], dtype=np.object_))
pitch = grpcclient.InferInput(contract.TTS_IN_PITCH, [1, 1], "FP32")
pitch.set_data_from_numpy(np.array([[1.1]], np.float32))
result = client.infer(contract.MODEL_ENSEMBLE, [text, pitch], client_timeout=120)
audio = result.as_numpy(contract.TTS_OUT_AUDIO).ravel()
rate = int(result.as_numpy(contract.TTS_OUT_SAMPLE_RATE).ravel()[0])
sf.write("hello_grpc.wav", audio, rate, subtype="PCM_16")
print(f"{audio.size / rate:.2f} s at {rate} Hz")
