"""`python -m frontend --host 127.0.0.1 --port 8080 --triton-grpc 127.0.0.1:8001`
[--models-dir DIR] [--voices-dir DIR] [--default-voice NAME]"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal

from aiohttp import web

from frontend import log_filters
from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.shutdown import DRAIN_KEY
from frontend.voices import CatalogueError

log = logging.getLogger("frontend")


def parse_args(argv: list[str] | None = None) -> FrontendConfig:
    defaults = FrontendConfig()
    parser = argparse.ArgumentParser(
        prog="python -m frontend", description="HTTP frontend of the Mandarin TTS service"
    )
    for field in dataclasses.fields(FrontendConfig):
        default = getattr(defaults, field.name)
        flag = "--" + field.name.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=f"default: {default}",
            )
        else:
            parser.add_argument(
                flag, type=type(default), default=default, help=f"default: {default}"
            )
    parser.add_argument("--log-level", default="INFO")
    args = vars(parser.parse_args(argv))
    logging.basicConfig(
        level=args.pop("log_level").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    log_filters.install()
    return FrontendConfig(**args)


async def serve(config: FrontendConfig, app: web.Application | None = None) -> bool:
    """Serve until SIGTERM/SIGINT, then drain; True if every request in flight finished."""
    app = app or create_app(config)
    # The drain below already waited for the requests; cleanup only closes what is left.
    # handler_cancellation: a client that disconnects cancels its handler at once, which
    # frees its admission slot, drops its queued chunks and cancels its Triton calls
    # (without it aiohttp lets an abandoned request synthesize to the end).
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0, handler_cancellation=True)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, config.host, config.port).start()
        log.info("listening on http://%s:%d", config.host, config.port)
        await stop.wait()
        drain = app[DRAIN_KEY]
        drain.begin()
        log.info(
            "shutting down: %d requests in flight, up to %.0f s to finish",
            drain.in_flight,
            config.shutdown_grace_s,
        )
        finished = await drain.wait_idle(config.shutdown_grace_s)
        if not finished:
            log.warning("grace period over with %d requests unfinished", drain.in_flight)
        return finished
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await runner.cleanup()
        log.info("stopped")


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    log.info("starting with %s", config)
    try:
        app = create_app(config)
    except CatalogueError as error:  # e.g. --default-voice names a voice not installed
        log.error("cannot start: %s", error)
        raise SystemExit(2) from None
    asyncio.run(serve(config, app))


if __name__ == "__main__":
    main()
