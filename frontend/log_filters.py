"""Keep hostile clients from flooding the log: aiohttp logs every malformed HTTP message
(bad chunk framing, broken headers) at ERROR with a full traceback. Those are the client's
fault and already answered with 400, so they become one WARNING line."""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

AIOHTTP_SERVER_LOGGER = "aiohttp.server"


class MalformedRequestFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = f"malformed HTTP request refused: {type(error).__name__}: {error.message}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def install() -> None:
    logging.getLogger(AIOHTTP_SERVER_LOGGER).addFilter(MalformedRequestFilter())
