"""`chat serve`: we own the root nursery; the supervisor's services first, hypercorn beside them."""

from __future__ import annotations

import gc
import logging
import signal
from functools import partial

import trio

from chat.actors.drain import run_drain
from chat.config import Settings
from chat.errors import CLOSE_SERVICE_RESTART
from chat.http.app import asgi_app, hypercorn_config
from chat.http.front_door import serve as serve_front_door
from chat.http.listener import ConnectionCap
from chat.http.metrics import run_metrics_refresher
from chat.http.ws import ws_routes
from chat.http.ws_handshake import decline_extensions
from chat.services import Services, open_services

logger = logging.getLogger(__name__)

# The cyclic garbage collector paused the loop for 30-40 ms (gen1) and 270-550 ms (gen2) at 500
# msgs/s with 500 sockets (measured with gc.callbacks), which was the whole p99 (one worker:
# 500 msgs/s went from p99 265 ms to 40-55 ms). A larger young generation makes gen1/gen2 passes
# rarer, and freezing what start-up built (modules, pydantic schemas, the app) keeps every later
# full pass from walking it again. A full pass still costs ~400 ms now and then (bench note).
# gen1 every 10 young passes, not 100 (issue 19, step 11): a burst of 10,000 widget connects
# made one gen1 pass of ~450 ms over everything the burst built (gc.callbacks), the burst's
# connect p99; now ~10 passes of 30-90 ms. A full pass still comes every 10,000 young passes
# (10 x 1,000, as 100 x 100 did).
GC_THRESHOLDS = (10_000, 10, 1000)


async def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    fd: int | None = None,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until SIGINT/SIGTERM; then stop accepting, let sessions close, and stop actors."""
    async with open_services(settings) as services, trio.open_nursery() as nursery:
        stop = trio.Event()
        nursery.start_soon(_wait_for_signal, stop, services)
        nursery.start_soon(run_metrics_refresher, services, stop)
        config = hypercorn_config(host, port, fd=fd)
        decline_extensions()  # no permessage-deflate: 262 KB per socket (chat/http/ws_handshake.py)
        routes = ws_routes(services)
        app = ConnectionCap(asgi_app(services, routes), settings.max_connections)
        binds = await nursery.start(
            partial(serve_front_door, app, config, routes, shutdown_trigger=stop.wait)
        )
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        task_status.started(binds)


async def _wait_for_signal(stop: trio.Event, services: Services) -> None:
    """SIGINT/SIGTERM: stop now, every socket told 1012. SIGUSR1: drain first (the staged
    drain of chat/actors/drain.py), then stop; a SIGINT/SIGTERM meanwhile stops at once."""
    why = "the end of the drain"
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGUSR1) as signals:
        async with trio.open_nursery() as nursery:

            async def drain_then_stop() -> None:
                await run_drain(services.revocations, services.drain, services.settings)
                nursery.cancel_scope.cancel()  # ends the wait for signals below

            async for signum in signals:
                if signum != signal.SIGUSR1:
                    why = signal.Signals(signum).name
                    nursery.cancel_scope.cancel()
                    break
                if not services.drain.draining:
                    logger.info("received SIGUSR1: draining")
                    nursery.start_soon(drain_then_stop)
    closing = services.revocations.close_all(
        CLOSE_SERVICE_RESTART, "the service is restarting; reconnect"
    )
    logger.info("%s: shutting down; closing %d socket(s) with 1012", why, closing)
    stop.set()
