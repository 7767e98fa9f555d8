"""One sentence straight from Triton's `tts` ensemble over HTTP (tritonclient.http);
writes hello_http.wav.  Text over contract.TEXT_MAX_CHARS must be chunked (see the frontend).

    python -m client.examples.triton_http [127.0.0.1:8000]
"""

import sys

import numpy as np
import soundfile as sf
import tritonclient.http as httpclient

from mandarin_tts import contract

url = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8000"
client = httpclient.InferenceServerClient(url)
text = httpclient.InferInput(contract.TTS_IN_TEXT, [1, 1], "BYTES")
text.set_data_from_numpy(np.array([["欢迎使用中文语音合成服务。".encode()]], dtype=np.object_))
speed = httpclient.InferInput(contract.TTS_IN_SPEED, [1, 1], "FP32")
speed.set_data_from_numpy(np.array([[1.0]], np.float32))
result = client.infer(contract.MODEL_ENSEMBLE, [text, speed])
audio = result.as_numpy(contract.TTS_OUT_AUDIO).ravel()
rate = int(result.as_numpy(contract.TTS_OUT_SAMPLE_RATE).ravel()[0])
sf.write("hello_http.wav", audio, rate, subtype="PCM_16")
print(f"{audio.size / rate:.2f} s at {rate} Hz")
