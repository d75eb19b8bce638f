"""The webhook sender: claims due deliveries from PostgreSQL and POSTs them, signed, within
bounded concurrency (structures.md, "Webhooks").

Every process runs one; rows are claimed with a lease (chat/db/webhook_queries.py), so senders
share the work and never send one row at once. Order: a conversation's events go one after the
other (one row in flight per endpoint and lane). Isolation: at most `webhook_per_endpoint`
requests in flight to one endpoint over all processes and `webhook_concurrency` from this one,
each under `webhook_timeout_seconds`, so a slow or dead endpoint holds a few slots and never
delays another endpoint or the chat (the chat never waits on webhooks at all).

Delivery is at least once: a sender that dies mid-request leaves its rows to be claimed again
when their lease ends; receivers dedupe by (space_id, id).

Crash policy: a failed attempt (refused destination, timeout, connection error, a non-2xx or
3xx answer) is retried after a random delay of up to base * 2**(attempts - 1) seconds, at most
`webhook_retry_max_delay_seconds`, and parked (`failed`) once `webhook_retry_for_seconds` have
passed since it was enqueued. PostgreSQL errors back off; anything else propagates.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

import httpx
import psycopg
import trio

from chat.backoff import Backoff
from chat.config import Settings
from chat.db import webhook_queries
from chat.db.pool import Database
from chat.db.webhook_queries import Claimed
from chat.webhooks.client import Outcome, Request, deliver, open_webhook_client
from chat.webhooks.destinations import Policy

logger = logging.getLogger(__name__)

# A claimed row is its sender's for the attempt's timeout plus this (the outcome's write); past
# it a crashed sender's row is claimed again.
LEASE_MARGIN_SECONDS = 5.0


@dataclass
class SenderState:
    """What the senders did, for tests and /metrics; `wake` starts a claim at once."""

    delivered: int = 0
    failed_attempts: int = 0
    parked: int = 0
    in_flight: int = 0
    wake_event: trio.Event = field(default_factory=trio.Event)

    def wake(self) -> None:
        self.wake_event.set()


@dataclass(frozen=True, slots=True)
class SenderConfig:
    timeout_seconds: float
    concurrency: int
    per_endpoint: int
    poll_seconds: float
    retry_base_seconds: float
    retry_max_delay_seconds: float
    retry_for_seconds: float
    policy: Policy

    @classmethod
    def of(cls, settings: Settings) -> SenderConfig:
        return cls(
            settings.webhook_timeout_seconds,
            settings.webhook_concurrency,
            settings.webhook_per_endpoint,
            settings.webhook_poll_seconds,
            settings.webhook_retry_base_seconds,
            settings.webhook_retry_max_delay_seconds,
            settings.webhook_retry_for_seconds,
            Policy.of(settings.webhook_allow_private, settings.webhook_allowed_networks),
        )

    @property
    def lease_seconds(self) -> float:
        return self.timeout_seconds + LEASE_MARGIN_SECONDS


async def run_webhook_sender(
    db: Database,
    config: SenderConfig,
    state: SenderState,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Send due deliveries until cancelled; never returns otherwise.

    Resource handling: one HTTP connection pool, and a nursery of at most `concurrency` sends.
    Cancellation abandons the sends in flight: their rows are sent again once their lease ends.
    """
    backoff = Backoff("webhook sender")
    async with open_webhook_client(config.concurrency) as client, trio.open_nursery() as nursery:
        task_status.started()
        while True:
            state.wake_event = trio.Event()  # a wake from now on starts the next claim at once
            free = config.concurrency - state.in_flight
            claimed: list[Claimed] = []
            if free > 0:
                try:
                    claimed = await db.run(
                        partial(
                            webhook_queries.claim_due,
                            limit=free,
                            per_endpoint=config.per_endpoint,
                            lease_seconds=config.lease_seconds,
                        )
                    )
                except psycopg.Error as exc:  # the rows wait in PostgreSQL
                    await backoff.wait(logger, exc)
                    continue
                backoff.reset()
            for row in claimed:
                state.in_flight += 1
                nursery.start_soon(_send_one, db, client, config, state, row)
            if free == 0 or len(claimed) < free:
                with trio.move_on_after(config.poll_seconds):
                    await state.wake_event.wait()


async def _send_one(
    db: Database,
    client: httpx.AsyncClient,
    config: SenderConfig,
    state: SenderState,
    row: Claimed,
) -> None:
    try:
        request = Request(row.url, row.secret, row.space_id, row.event_id, row.kind, row.body)
        outcome = await deliver(client, request, config.policy, config.timeout_seconds)
        await _record(db, config, state, row, outcome)
    except psycopg.Error as exc:
        # The outcome is not stored: the lease ends and the row is sent again (at least once).
        logger.warning("webhooks: outcome of %s not stored: %r", _what(row), exc)
    finally:
        state.in_flight -= 1
        state.wake()  # a slot is free, and the lane's next event may be due


async def _record(
    db: Database, config: SenderConfig, state: SenderState, row: Claimed, outcome: Outcome
) -> None:
    if outcome.ok:
        await db.run(
            lambda c: webhook_queries.record_outcome(
                c, row, "delivered", outcome.status, None, outcome.latency_ms
            )
        )
        state.delivered += 1
        return
    state.failed_attempts += 1
    waited = (datetime.now(UTC) - row.enqueued_at).total_seconds()
    delay = retry_delay(config.retry_base_seconds, config.retry_max_delay_seconds, row.attempts)
    if waited + delay > config.retry_for_seconds:
        logger.warning("webhooks: %s parked after %d attempts", _what(row), row.attempts)
        state.parked += 1
        status = "failed"
    else:
        logger.info("webhooks: %s failed (%s); retry in %.1fs", _what(row), outcome.error, delay)
        status = "pending"
    await db.run(
        lambda c: webhook_queries.record_outcome(
            c, row, status, outcome.status, outcome.error, outcome.latency_ms, delay
        )
    )


def retry_delay(base_seconds: float, max_seconds: float, attempts: int) -> float:
    """Exponential with full jitter (AWS's "full jitter"): deliveries that failed together (an
    endpoint down) spread out instead of coming back all at once."""
    ceiling = min(max_seconds, base_seconds * 2.0 ** min(attempts - 1, 32))
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret


def _what(row: Claimed) -> str:
    """A delivery as the log names it: ids only, never the URL's secrets or the body."""
    return f"event {row.space_id}/{row.event_id} to endpoint {row.endpoint_id}"
