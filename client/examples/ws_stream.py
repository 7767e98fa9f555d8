"""Stream text into GET /v1/tts/ws the way an LLM produces it (a few characters every 50 ms)
and write the audio as it comes back; writes hello_ws.wav.

    python -m client.examples.ws_stream [http://127.0.0.1:8080] [API_KEY]

The protocol (docs/websocket.md): a config message, text deltas, then close; the server sends
"ready", binary audio (raw 16-bit PCM here), a "segment" event before each chunk's audio,
and "done".
"""

import asyncio
import json
import sys
import time
import wave

import aiohttp

TEXT = "您好，欢迎致电客服中心。我是您的智能助理，很高兴为您服务。请问有什么可以帮您？"


async def main(url: str, api_key: str | None) -> None:
    # A browser cannot set headers on a WebSocket: it offers the key as a subprotocol.
    protocols = ["tts.v1"] + ([f"api-key.{api_key}"] if api_key else [])
    ws_url = url.replace("http", "ws", 1).rstrip("/") + "/v1/tts/ws"
    audio = bytearray()
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url, protocols=protocols) as ws:
        await ws.send_json({"type": "config", "format": "pcm", "speed": 1.0})
        ready = await ws.receive_json()
        if ready["type"] != "ready":
            raise SystemExit(f"refused: {ready}")
        rate = ready["sample_rate"]
        start = time.monotonic()

        async def send_text() -> None:
            for i in range(0, len(TEXT), 3):
                await ws.send_json({"type": "text", "text": TEXT[i : i + 3]})
                await asyncio.sleep(0.05)
            await ws.send_json({"type": "close"})

        sender = asyncio.ensure_future(send_text())
        first_audio = None
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.BINARY:
                if first_audio is None:
                    first_audio = time.monotonic() - start
                audio.extend(msg.data)
            elif msg.type is aiohttp.WSMsgType.TEXT:
                event = json.loads(msg.data)
                if event["type"] == "segment":
                    print(f"{event['start']:6.2f}-{event['end']:6.2f} s  {event['text']}")
                elif event["type"] == "error":
                    raise SystemExit(f"error {event['code']}: {event['message']}")
                elif event["type"] == "done":
                    print(f"done: {event['audio_seconds']} s of audio")
        await sender
    with wave.open("hello_ws.wav", "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(audio))
    print(f"first audio {first_audio:.3f} s after the first text; wrote hello_ws.wav")


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080",
            sys.argv[2] if len(sys.argv) > 2 else None,
        )
    )
