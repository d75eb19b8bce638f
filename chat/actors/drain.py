"""A staged drain, for rolling upgrades behind a load balancer (SIGUSR1, or `chat drain`).

1. `/readyz` answers 503 `{"status": "draining"}` at once; the process still serves.
2. It waits `drain_balancer_seconds`, so the balancer's probes see it and send nothing new.
3. It closes its sockets with 1012 (service restart: reconnect) one at a time, spread over
   `drain_spread_seconds` in a random order: their clients reconnect to the other nodes over
   that time instead of all in one instant. A socket that still arrives is closed at once.
4. It returns once no socket is left (at most `drain_timeout_seconds` after it began); the
   caller then stops the process as on SIGTERM.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import trio

from chat.actors.revocation import SessionRegistry
from chat.config import Settings
from chat.errors import CLOSE_SERVICE_RESTART

logger = logging.getLogger(__name__)

DRAIN_REASON = "this node is draining; reconnect"


@dataclass
class DrainState:
    """Whether this process drains (read by /readyz). Kept in Services; no I/O."""

    started_at: float | None = None  # trio.current_time() when the drain began

    @property
    def draining(self) -> bool:
        return self.started_at is not None


async def run_drain(registry: SessionRegistry, state: DrainState, settings: Settings) -> None:
    """Drain this process's sessions (see the module docstring); returns when none is left or
    the timeout passed. Cancelling it leaves readiness failed and any socket closed closed."""
    state.started_at = trio.current_time()
    logger.info(
        "draining: /readyz fails now; %d socket(s) close in %.0f s, over %.0f s",
        registry.size(),
        settings.drain_balancer_seconds,
        settings.drain_spread_seconds,
    )
    with trio.move_on_after(settings.drain_timeout_seconds) as timeout:
        await trio.sleep(settings.drain_balancer_seconds)
        watches = registry.watches()
        secrets.SystemRandom().shuffle(watches)
        # Evenly spaced in a random order: the same spread as random moments, without bursts.
        pause = settings.drain_spread_seconds / len(watches) if watches else 0.0
        for watch in watches:
            watch.revoke(CLOSE_SERVICE_RESTART, DRAIN_REASON)
            await trio.sleep(pause)
        registry.close_new(CLOSE_SERVICE_RESTART, DRAIN_REASON)
        await registry.wait_empty()
    if timeout.cancelled_caught:
        logger.warning("draining: %d socket(s) still open after the timeout", registry.size())
    else:
        logger.info("drained: no socket left")
