"""The OpenAI-compatible route, POST /v1/audio/speech (any OpenAI client pointed at the
frontend's base URL works the same way); writes hello_openai.wav.

    python -m client.examples.openai_speech [http://127.0.0.1:8080]
"""

import json
import sys
import urllib.request

url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
body = {"model": "tts-1", "voice": "alloy", "input": "今天天气真好。", "response_format": "wav"}
request = urllib.request.Request(
    url + "/v1/audio/speech",
    data=json.dumps(body).encode("utf-8"),
    headers={"Content-Type": "application/json"},
)
with (
    urllib.request.urlopen(request, timeout=300) as response,
    open("hello_openai.wav", "wb") as out,
):
    out.write(response.read())
