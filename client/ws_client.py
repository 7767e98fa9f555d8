"""Text streamed into GET /v1/tts/ws, audio streamed out (docs/websocket.md).

`speak(pieces, url, ...)` sends each piece of text as it comes from `pieces` (an async
iterator: stdin as it is typed or piped, an LLM's deltas), and hands every audio frame to
`on_audio` as it arrives. Errors the server reports become FrontendError with its message.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp

from client.frontend_client import FrontendError
from client.progress import ProgressBar

SUBPROTOCOL = "tts.v1"
# Text per message: far below the server's 64 KiB message limit.
MESSAGE_CHARS = 1000
# Speaking rate used for the progress estimate (as the server's X-Estimated-Audio-Seconds).
SECONDS_PER_CHAR = 0.2


@dataclass
class Result:
    audio_seconds: float
    segments: int
    sample_rate: int
    first_audio_s: float | None


async def pieces_of(text: str, size: int = MESSAGE_CHARS) -> AsyncIterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


async def stdin_pieces(stream: Any = None, size: int = 4096) -> AsyncIterator[str]:
    """Text from stdin as soon as it is available (not only at end of input)."""
    import codecs

    source = stream or sys.stdin.buffer
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    loop = asyncio.get_running_loop()
    read = getattr(source, "read1", source.read)
    while block := await loop.run_in_executor(None, read, size):
        if text := decoder.decode(block):
            yield text
    if tail := decoder.decode(b"", final=True):
        yield tail


def _ws_url(url: str) -> str:
    base = url.rstrip("/")
    if base.startswith("http"):
        base = "ws" + base[4:]
    return base + "/v1/tts/ws"


async def speak(
    pieces: AsyncIterator[str],
    url: str,
    on_audio: Callable[[bytes], None],
    *,
    config: dict[str, Any] | None = None,
    api_key: str | None = None,
    expected_chars: int = 0,
    show_progress: bool = False,
) -> Result:
    """One session: config, the text pieces, close; returns what the done event says."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    fields = {k: v for k, v in (config or {}).items() if v is not None}
    bar = ProgressBar(
        max(expected_chars * SECONDS_PER_CHAR, 1.0), "speaking", "s", enabled=show_progress
    )
    loop = asyncio.get_running_loop()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(_ws_url(url), headers=headers, protocols=(SUBPROTOCOL,)) as ws,
        ):
            await ws.send_json({"type": "config", **fields})
            ready = await ws.receive_json(timeout=60)
            if ready.get("type") != "ready":
                raise FrontendError(_event_message(ready))
            started = loop.time()

            async def send() -> None:
                async for piece in pieces:
                    await ws.send_json({"type": "text", "text": piece})
                await ws.send_json({"type": "close"})

            sender = asyncio.ensure_future(send())
            first_audio: float | None = None
            done: dict[str, Any] | None = None
            try:
                async for msg in ws:
                    if msg.type is aiohttp.WSMsgType.BINARY:
                        first_audio = first_audio or loop.time() - started
                        on_audio(msg.data)
                    elif msg.type is aiohttp.WSMsgType.TEXT:
                        event = json.loads(msg.data)
                        if event["type"] == "segment":
                            bar.update(event["end"])
                        elif event["type"] == "error":
                            raise FrontendError(_event_message(event))
                        elif event["type"] == "done":
                            done = event
            finally:
                sender.cancel()
            if done is None:
                raise FrontendError(f"the server closed the session ({ws.close_code}) early")
    except aiohttp.WSServerHandshakeError as error:
        raise FrontendError(await _refusal(url, headers, error.status)) from error
    except aiohttp.ClientConnectionError as error:
        raise FrontendError(f"cannot reach {_ws_url(url)}: {error}") from error
    bar.total = done["audio_seconds"]
    bar.finish()
    return Result(done["audio_seconds"], done["segments"], ready["sample_rate"], first_audio)


async def _refusal(url: str, headers: dict[str, str], status: int) -> str:
    """The server's JSON message for a refused handshake: aiohttp does not read that body, so
    ask again without upgrading (the same checks answer first; 426 means they passed)."""
    from client.frontend_client import error_message

    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(url.rstrip("/") + "/v1/tts/ws", headers=headers) as response,
        ):
            if response.status == status:
                return error_message(status, await response.read())
    except aiohttp.ClientError:
        pass
    return f"HTTP {status}: the WebSocket handshake was refused"


def _event_message(event: dict[str, Any]) -> str:
    if event.get("type") == "error":
        return f"{event.get('code')}: {event.get('message')}"
    return f"unexpected message {json.dumps(event)[:200]}"


def speak_text(
    texts: Iterable[str] | None, url: str, on_audio: Callable[[bytes], None], **options: Any
) -> Result:
    """Blocking `speak` of whole texts (None: stdin as it arrives)."""

    async def main() -> Result:
        async def from_texts(items: Iterable[str]) -> AsyncIterator[str]:
            for item in items:
                async for piece in pieces_of(item):
                    yield piece

        source = stdin_pieces() if texts is None else from_texts(texts)
        return await speak(source, url, on_audio, **options)

    return asyncio.run(main())
