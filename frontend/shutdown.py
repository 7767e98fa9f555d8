"""Graceful shutdown: on SIGTERM stop taking new work (503), let the requests in flight
finish within a grace period, then exit.

The listening socket stays open while draining, so a client (or a load balancer that has
not yet seen /healthz turn 503) gets a clear, retryable 503 instead of a refused
connection; Kubernetes stops routing to the pod once its readiness probe fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from frontend.errors import RETRY_AFTER_S, ApiError

# Always answered, also while draining: probes and scrapes must see the state.
UNGATED_PATHS = frozenset({"/healthz", "/metrics"})


class ShuttingDown(ApiError, status=503, code="shutting_down"): ...


class Drain:
    """Counts the requests in flight; once `begin()` is called, refuses new ones."""

    def __init__(self) -> None:
        self.draining = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def begin(self) -> None:
        self.draining = True

    def enter(self) -> None:
        if self.draining:
            raise ShuttingDown(
                "the service is shutting down; retry on another instance",
                retry_after_s=RETRY_AFTER_S,
            )
        self.in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._idle.set()

    async def wait_idle(self, grace_s: float) -> bool:
        """True once nothing is in flight, False if `grace_s` ran out first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=max(grace_s, 0.0))
        except TimeoutError:
            return False
        return True


DRAIN_KEY = web.AppKey("drain", Drain)


@web.middleware
async def drain_gate(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.path in UNGATED_PATHS:
        return await handler(request)
    drain = request.app[DRAIN_KEY]
    drain.enter()
    try:
        return await handler(request)
    finally:
        drain.leave()
