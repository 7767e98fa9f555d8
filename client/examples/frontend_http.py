"""POST /v1/tts on the frontend with the standard library; writes hello.wav.

python -m client.examples.frontend_http [http://127.0.0.1:8080]
"""

import json
import sys
import urllib.request

url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
body = {"text": "欢迎使用中文语音合成服务。", "speed": 1.0, "volume": 1.0, "format": "wav"}
request = urllib.request.Request(
    url + "/v1/tts",
    data=json.dumps(body).encode("utf-8"),
    headers={"Content-Type": "application/json"},
)
with urllib.request.urlopen(request, timeout=300) as response, open("hello.wav", "wb") as out:
    out.write(response.read())
    print(
        "request id",
        response.headers["X-Request-Id"],
        "duration",
        response.headers["X-Audio-Duration"],
        "s",
    )
