"""A real aiohttp app on a free localhost port, served from a background thread, for unit
tests that talk HTTP to an in-process frontend (client CLI, web page)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator

from aiohttp import web

from mandarin_tts.serving.ports import free_port


@contextlib.contextmanager
def serve_in_thread(
    make_app: Callable[[int], web.Application], start_timeout_s: float = 30.0
) -> Iterator[str]:
    """Serve `make_app(port)` until the block ends; yields its base URL."""
    port = free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(port))
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    if not started.wait(start_timeout_s):
        raise RuntimeError(f"the app did not start within {start_timeout_s:.0f} s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
