"""Malformed HTTP from a client is one WARNING line, not an ERROR with a traceback."""

from __future__ import annotations

import logging
import sys

import pytest
from aiohttp.http_exceptions import BadHttpMessage, TransferEncodingError

from frontend.log_filters import AIOHTTP_SERVER_LOGGER, MalformedRequestFilter


def record_for(error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        AIOHTTP_SERVER_LOGGER, logging.ERROR, __file__, 1, "Error handling request from %s",
        ("127.0.0.1",), exc_info,
    )  # fmt: skip


@pytest.mark.parametrize("error", [BadHttpMessage("bad chunk"), TransferEncodingError("size")])
def test_client_framing_errors_become_one_warning_line(error: BaseException) -> None:
    record = record_for(error)
    assert MalformedRequestFilter().filter(record)
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "malformed HTTP request refused" in record.getMessage()
    assert type(error).__name__ in record.getMessage()


def test_our_own_errors_keep_their_traceback() -> None:
    record = record_for(RuntimeError("a bug of ours"))
    assert MalformedRequestFilter().filter(record)
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.getMessage() == "Error handling request from 127.0.0.1"
