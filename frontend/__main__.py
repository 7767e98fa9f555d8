"""`python -m frontend --host 127.0.0.1 --port 8080 --triton-grpc 127.0.0.1:8001`"""

from __future__ import annotations

import argparse
import dataclasses
import logging

from aiohttp import web

from frontend.app import create_app
from frontend.config import FrontendConfig


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
    return FrontendConfig(**args)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    logging.getLogger("frontend").info("starting with %s", config)
    web.run_app(create_app(config), host=config.host, port=config.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
