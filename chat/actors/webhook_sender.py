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
from chat.db.webhook_queries import Claimed, Ended
from chat.webhooks.client import Outcome, Request, deliver, open_webhook_client
from chat.webhooks.destinations import Policy

logger = logging.getLogger(__name__)

# A claimed row is its sender's for the attempt's timeout plus this (the outcome's write); past
# it a crashed sender's row is claimed again.
LEASE_MARGIN_SECONDS = 5.0
# After a wake, the claim waits this long for more to finish or arrive (see the loop).
CLAIM_LINGER_SECONDS = 0.005
# Outcomes written in one transaction at most.
OUTCOME_BATCH = 200


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

    Resource handling: one HTTP connection pool, a nursery of at most `concurrency` sends and
    the task writing their outcomes. Cancellation abandons the sends in flight and outcomes not
    written yet: those rows are sent again once their lease ends.
    """
    backoff = Backoff("webhook sender")
    # Bounded by the sends that can be in flight: a send waits for room only while the writer
    # is behind by that many outcomes (PostgreSQL slow), which then slows the sends down too.
    send_outcome, outcomes = trio.open_memory_channel[Ended](config.concurrency)
    async with open_webhook_client(config.concurrency) as client, trio.open_nursery() as nursery:
        nursery.start_soon(_write_outcomes, db, state, outcomes)
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
                nursery.start_soon(_send_one, client, config, state, row, send_outcome)
            if free == 0 or len(claimed) < free:
                with trio.move_on_after(config.poll_seconds):
                    await state.wake_event.wait()
                # Let the outcomes and enqueues of the next moment gather, so that one claim
                # takes many rows rather than one per finished send.
                await trio.sleep(CLAIM_LINGER_SECONDS)


async def _send_one(
    client: httpx.AsyncClient,
    config: SenderConfig,
    state: SenderState,
    row: Claimed,
    send_outcome: trio.MemorySendChannel[Ended],
) -> None:
    try:
        request = Request(row.url, row.secret, row.space_id, row.event_id, row.kind, row.body)
        outcome = await deliver(client, request, config.policy, config.timeout_seconds)
        await send_outcome.send(_ended(config, state, row, outcome))
    finally:
        state.in_flight -= 1


async def _write_outcomes(
    db: Database, state: SenderState, outcomes: trio.MemoryReceiveChannel[Ended]
) -> None:
    """Write outcomes as they come, all those waiting in one transaction; then wake the claim
    (a lane's next event is due once its head is written delivered)."""
    async for first in outcomes:
        batch = [first]
        while len(batch) < OUTCOME_BATCH:
            try:
                batch.append(outcomes.receive_nowait())
            except trio.WouldBlock:
                break
        try:
            await db.run(partial(webhook_queries.record_outcomes, ended=batch))
        except psycopg.Error as exc:
            # Not stored: the leases end and the rows are sent again (at least once).
            logger.warning("webhooks: %d outcomes not stored: %r", len(batch), exc)
            continue
        state.delivered += sum(1 for x in batch if x.status == "delivered")
        state.wake()


def _ended(config: SenderConfig, state: SenderState, row: Claimed, outcome: Outcome) -> Ended:
    if outcome.ok:
        return Ended(row, "delivered", outcome.status, None, outcome.latency_ms)
    state.failed_attempts += 1
    waited = (datetime.now(UTC) - row.enqueued_at).total_seconds()
    delay = retry_delay(config.retry_base_seconds, config.retry_max_delay_seconds, row.attempts)
    if waited + delay > config.retry_for_seconds:
        logger.warning("webhooks: %s parked after %d attempts", _what(row), row.attempts)
        state.parked += 1
        return Ended(row, "failed", outcome.status, outcome.error, outcome.latency_ms, delay)
    logger.info("webhooks: %s failed (%s); retry in %.1fs", _what(row), outcome.error, delay)
    return Ended(row, "pending", outcome.status, outcome.error, outcome.latency_ms, delay)


def retry_delay(base_seconds: float, max_seconds: float, attempts: int) -> float:
    """Exponential with full jitter (AWS's "full jitter"): deliveries that failed together (an
    endpoint down) spread out instead of coming back all at once."""
    ceiling = min(max_seconds, base_seconds * 2.0 ** min(attempts - 1, 32))
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret


def _what(row: Claimed) -> str:
    """A delivery as the log names it: ids only, never the URL's secrets or the body."""
    return f"event {row.space_id}/{row.event_id} to endpoint {row.endpoint_id}"
