"""Webhooks in PostgreSQL (structures.md, "Webhooks"): endpoints (configuration, written by the
routes), events and deliveries (written by the ingest actor, keyed by stream entry id), the
senders' claim, the delivery log and replay.

Endpoints of another organization, and deleted ones, are not found, whoever asks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row

from chat.ids import format_id
from chat.webhooks.events import PublicEvent

MAX_ENDPOINTS_PER_ORGANIZATION = 50
_COLUMNS = (
    "id::text, organization_id::text, url, kinds, secret, description, enabled, created_at,"
    " updated_at"
)
_LIVE = "organization_id = %(org)s AND deleted_at IS NULL"


@dataclass(frozen=True, slots=True)
class EndpointRow:
    id: str
    organization_id: str
    url: str
    kinds: list[str]
    secret: str
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    space_id: str
    id_ms: int
    id_seq: int
    kind: str | None  # None once the sweep dropped the event's body
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    last_latency_ms: int | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime
    delivered_at: datetime | None

    @property
    def event_id(self) -> str:
        return format_id((self.id_ms, self.id_seq))


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a sender holds until its lease ends, with what it sends."""

    endpoint_id: str
    space_id: str
    id_ms: int
    id_seq: int
    attempts: int  # this one included
    enqueued_at: datetime
    url: str
    secret: str
    kind: str
    body: str

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.endpoint_id, self.space_id, self.id_ms, self.id_seq)

    @property
    def event_id(self) -> str:
        return format_id((self.id_ms, self.id_seq))


# Endpoints (the REST routes).


def list_endpoints(conn: psycopg.Connection, organization_id: str) -> list[EndpointRow]:
    with conn.cursor(row_factory=class_row(EndpointRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE {_LIVE} ORDER BY created_at, id",
            {"org": organization_id},
        ).fetchall()


def endpoint_by_id(
    conn: psycopg.Connection, organization_id: str, endpoint_id: str
) -> EndpointRow | None:
    with conn.cursor(row_factory=class_row(EndpointRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE id = %(id)s AND {_LIVE}",
            {"id": endpoint_id, "org": organization_id},
        ).fetchone()


def count_endpoints(conn: psycopg.Connection, organization_id: str) -> int:
    """Live endpoints, with the organization's row locked (two creations at the cap)."""
    conn.execute("SELECT 1 FROM organizations WHERE id = %s FOR UPDATE", (organization_id,))
    row = conn.execute(
        f"SELECT count(*) FROM webhook_endpoints WHERE {_LIVE}", {"org": organization_id}
    ).fetchone()
    return int(row[0]) if row else 0


def create_endpoint(
    conn: psycopg.Connection,
    organization_id: str,
    url: str,
    kinds: list[str],
    secret: str,
    description: str,
    enabled: bool,
) -> EndpointRow:
    with conn.cursor(row_factory=class_row(EndpointRow)) as cur:
        row = cur.execute(
            "INSERT INTO webhook_endpoints"
            " (id, organization_id, url, kinds, secret, description, enabled)"
            f" VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
            (str(uuid.uuid4()), organization_id, url, kinds, secret, description, enabled),
        ).fetchone()
    assert row is not None
    return row


def update_endpoint(
    conn: psycopg.Connection, organization_id: str, endpoint_id: str, changes: dict[str, Any]
) -> EndpointRow | None:
    """Set the given columns (url, kinds, description, enabled, secret); None if not found."""
    allowed = {"url", "kinds", "description", "enabled", "secret"}
    sets = ", ".join(f"{name} = %({name})s" for name in sorted(changes) if name in allowed)
    assignments = f"{sets}, updated_at = now()" if sets else "updated_at = now()"
    with conn.cursor(row_factory=class_row(EndpointRow)) as cur:
        return cur.execute(
            f"UPDATE webhook_endpoints SET {assignments} WHERE id = %(id)s AND {_LIVE}"
            f" RETURNING {_COLUMNS}",
            {**changes, "id": endpoint_id, "org": organization_id},
        ).fetchone()


def delete_endpoint(conn: psycopg.Connection, organization_id: str, endpoint_id: str) -> bool:
    """Soft delete; its pending deliveries are dropped (nothing is sent to it any more)."""
    found = conn.execute(
        f"UPDATE webhook_endpoints SET deleted_at = now() WHERE id = %(id)s AND {_LIVE}"
        " RETURNING id",
        {"id": endpoint_id, "org": organization_id},
    ).fetchone()
    if found is None:
        return False
    conn.execute(
        "DELETE FROM webhook_deliveries WHERE endpoint_id = %s AND status = 'pending'",
        (endpoint_id,),
    )
    return True


# The ingest actor.

_RECORD_EVENTS = """
INSERT INTO webhook_events (space_id, id_ms, id_seq, organization_id, kind, lane, body)
SELECT x.space_id, x.id_ms, x.id_seq, x.org, x.kind, x.lane, x.body
FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::uuid[], %s::text[], %s::text[],
            %s::text[]) AS x (space_id, id_ms, id_seq, org, kind, lane, body)
WHERE EXISTS (
    SELECT 1 FROM webhook_endpoints e WHERE e.organization_id = x.org AND e.deleted_at IS NULL
)
ON CONFLICT DO NOTHING
"""
# Every enabled endpoint of the event's organization that chose its kind gets a row; the key
# (endpoint, event) makes a second ingest of the same entry (a crash before XACK) a no-op.
_ENQUEUE = """
INSERT INTO webhook_deliveries (endpoint_id, space_id, id_ms, id_seq, lane)
SELECT e.id, x.space_id, x.id_ms, x.id_seq, x.lane
FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::uuid[], %s::text[], %s::text[])
    AS x (space_id, id_ms, id_seq, org, kind, lane)
JOIN webhook_endpoints e
    ON e.organization_id = x.org AND e.deleted_at IS NULL AND e.enabled AND x.kind = ANY (e.kinds)
ON CONFLICT DO NOTHING
"""


_ORGANIZATIONS_WITH_ENDPOINTS = """
SELECT DISTINCT organization_id::text FROM webhook_endpoints
WHERE organization_id = ANY (%s::uuid[]) AND deleted_at IS NULL
"""


def organizations_with_endpoints(conn: psycopg.Connection, organizations: set[str]) -> set[str]:
    """Which of `organizations` have an endpoint: the others' entries become no event at all
    (most organizations have none, and building and sending every entry's body only for the
    insert to drop it was the ingest's whole cost)."""
    if not organizations:
        return set()
    rows = conn.execute(_ORGANIZATIONS_WITH_ENDPOINTS, (sorted(organizations),)).fetchall()
    return {row[0] for row in rows}


def record_events(conn: psycopg.Connection, events: list[PublicEvent]) -> int:
    """Store the events of organizations with endpoints and enqueue their deliveries, in the
    caller's transaction; the deliveries enqueued (0 for one already ingested)."""
    if not events:
        return 0
    columns = (
        [e.space_id for e in events],
        [int(e.entry_id.split("-")[0]) for e in events],
        [int(e.entry_id.split("-")[1]) for e in events],
        [e.organization_id for e in events],
        [e.kind for e in events],
        [e.lane for e in events],
    )
    conn.execute(_RECORD_EVENTS, (*columns, [e.body for e in events]))
    return conn.execute(_ENQUEUE, columns).rowcount


# The senders.

# Due rows, at most one in flight per (endpoint, lane): a lane's head is its oldest pending row,
# and only a head not leased is due, so a conversation's events go out one after the other in
# log order. An endpoint has at most `per_endpoint` rows in flight over all processes (a dead
# endpoint holds only that many of a sender's slots). FOR UPDATE SKIP LOCKED: two senders never
# claim one row; the final WHERE re-checks the row as committed by a sender that just won it.
#
# Cost: heads are looked for among each endpoint's CLAIM_WINDOW oldest pending rows only (an
# index range, not every pending row: a backlog of thousands made each claim scan and sort it
# all, and claims came once per delivery). Exact for the lanes it sees: an older pending row of
# a lane is older, so it is in the window too. A window full of rows waiting for a retry leaves
# that endpoint's newer lanes waiting until those retry.
CLAIM_WINDOW = 1000
_CLAIM = """
WITH candidates AS (
    SELECT c.*
    FROM webhook_endpoints e
    CROSS JOIN LATERAL (
        SELECT d.endpoint_id, d.space_id, d.id_ms, d.id_seq, d.lane, d.next_attempt_at,
            d.lease_until
        FROM webhook_deliveries d
        WHERE d.endpoint_id = e.id AND d.status = 'pending'
        ORDER BY d.id_ms, d.id_seq
        LIMIT %(window)s
    ) c
    WHERE e.enabled AND e.deleted_at IS NULL
), heads AS (
    SELECT DISTINCT ON (endpoint_id, lane) *
    FROM candidates
    ORDER BY endpoint_id, lane, id_ms, id_seq
), busy AS (
    SELECT endpoint_id, count(*) AS n FROM webhook_deliveries
    WHERE lease_until IS NOT NULL AND lease_until > now() AND status = 'pending'
    GROUP BY endpoint_id
), ranked AS (
    SELECT h.*, row_number() OVER (
        PARTITION BY h.endpoint_id ORDER BY h.next_attempt_at, h.id_ms, h.id_seq
    ) AS rank
    FROM heads h
    WHERE h.next_attempt_at <= now() AND (h.lease_until IS NULL OR h.lease_until <= now())
), due AS (
    SELECT d.endpoint_id, d.space_id, d.id_ms, d.id_seq
    FROM webhook_deliveries d
    JOIN ranked r USING (endpoint_id, space_id, id_ms, id_seq)
    LEFT JOIN busy b USING (endpoint_id)
    WHERE r.rank + coalesce(b.n, 0) <= %(per_endpoint)s
    ORDER BY r.next_attempt_at LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, lease_until = now() + %(lease)s * interval '1 second'
FROM due
WHERE (d.endpoint_id, d.space_id, d.id_ms, d.id_seq)
    = (due.endpoint_id, due.space_id, due.id_ms, due.id_seq)
    AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until <= now())
RETURNING d.endpoint_id::text, d.space_id::text, d.id_ms, d.id_seq, d.attempts, d.enqueued_at
"""
_SENDABLE = """
SELECT e.url, e.secret, w.kind, w.body
FROM webhook_endpoints e, webhook_events w
WHERE e.id = %s AND w.space_id = %s AND w.id_ms = %s AND w.id_seq = %s
"""


def claim_due(
    conn: psycopg.Connection, limit: int, per_endpoint: int, lease_seconds: float
) -> list[Claimed]:
    params = {
        "limit": limit,
        "per_endpoint": per_endpoint,
        "lease": lease_seconds,
        "window": CLAIM_WINDOW,
    }
    rows = conn.execute(_CLAIM, params).fetchall()
    claimed = []
    for endpoint_id, space_id, id_ms, id_seq, attempts, enqueued_at in rows:
        found = conn.execute(_SENDABLE, (endpoint_id, space_id, id_ms, id_seq)).fetchone()
        if found is None:  # its event swept away: nothing left to send
            conn.execute(
                "UPDATE webhook_deliveries SET status = 'failed', lease_until = NULL,"
                " last_error = 'event no longer stored' WHERE endpoint_id = %s AND space_id = %s"
                " AND id_ms = %s AND id_seq = %s",
                (endpoint_id, space_id, id_ms, id_seq),
            )
            continue
        claimed.append(Claimed(endpoint_id, space_id, id_ms, id_seq, attempts, enqueued_at, *found))
    return claimed


_OUTCOME = """
UPDATE webhook_deliveries SET
    status = %(status)s, lease_until = NULL, last_status = %(code)s, last_error = %(error)s,
    last_latency_ms = %(latency)s, last_attempt_at = now(),
    next_attempt_at = now() + %(delay)s * interval '1 second',
    delivered_at = CASE WHEN %(status)s = 'delivered' THEN now() END
WHERE endpoint_id = %(e)s AND space_id = %(s)s AND id_ms = %(ms)s AND id_seq = %(seq)s
"""


@dataclass(frozen=True, slots=True)
class Ended:
    """How an attempt ended: `delivered`, `failed` (parked), or `pending` again after `delay`."""

    row: Claimed
    status: str
    code: int | None
    error: str | None
    latency_ms: int
    delay_seconds: float = 0.0


def record_outcomes(conn: psycopg.Connection, ended: list[Ended]) -> None:
    """Several attempts' outcomes in one transaction (the sender writes them in batches)."""
    with conn.cursor() as cur:
        cur.executemany(
            _OUTCOME,
            [
                {
                    "status": x.status,
                    "code": x.code,
                    "error": x.error,
                    "latency": x.latency_ms,
                    "delay": x.delay_seconds,
                    "e": x.row.endpoint_id,
                    "s": x.row.space_id,
                    "ms": x.row.id_ms,
                    "seq": x.row.id_seq,
                }
                for x in ended
            ],
        )


# Replay and the delivery log (the REST routes).

# Every stored event of the endpoint's kinds after the cursor becomes pending again (or is
# enqueued, for one that never had a row: an endpoint created or given the kind later).
_REPLAY = """
INSERT INTO webhook_deliveries (endpoint_id, space_id, id_ms, id_seq, lane)
SELECT e.id, w.space_id, w.id_ms, w.id_seq, w.lane
FROM webhook_endpoints e
JOIN webhook_events w ON w.organization_id = e.organization_id AND w.kind = ANY (e.kinds)
WHERE e.id = %s AND (w.id_ms, w.id_seq) > (%s, %s)
ON CONFLICT (endpoint_id, space_id, id_ms, id_seq) DO UPDATE SET
    status = 'pending', attempts = 0, enqueued_at = now(), next_attempt_at = now(),
    lease_until = NULL
"""


def replay(conn: psycopg.Connection, endpoint_id: str, after_ms: int, after_seq: int) -> int:
    """Re-send every stored event of the endpoint's kinds after (ms, seq); how many."""
    return conn.execute(_REPLAY, (endpoint_id, after_ms, after_seq)).rowcount


def deliveries(
    conn: psycopg.Connection,
    endpoint_id: str,
    status: str | None,
    before: tuple[int, int, str] | None,
    limit: int,
) -> list[DeliveryRow]:
    """The endpoint's deliveries, newest event first, before the cursor (ms, seq, space)."""
    where = "d.endpoint_id = %(e)s"
    params: dict[str, Any] = {"e": endpoint_id, "limit": limit}
    if status is not None:
        where += " AND d.status = %(status)s"
        params["status"] = status
    if before is not None:
        where += " AND (d.id_ms, d.id_seq, d.space_id) < (%(ms)s, %(seq)s, %(space)s)"
        params.update(ms=before[0], seq=before[1], space=before[2])
    with conn.cursor(row_factory=class_row(DeliveryRow)) as cur:
        return cur.execute(
            "SELECT d.space_id::text, d.id_ms, d.id_seq, w.kind, d.status, d.attempts,"
            " d.last_status, d.last_error, d.last_latency_ms, d.last_attempt_at,"
            " d.next_attempt_at, d.delivered_at"
            " FROM webhook_deliveries d LEFT JOIN webhook_events w"
            " ON (w.space_id, w.id_ms, w.id_seq) = (d.space_id, d.id_ms, d.id_seq)"
            f" WHERE {where} ORDER BY d.id_ms DESC, d.id_seq DESC, d.space_id DESC"
            " LIMIT %(limit)s",
            params,
        ).fetchall()


def sweep(conn: psycopg.Connection, retention_days: int) -> int:
    """Forget events older than the retention, and the finished deliveries of them; how many
    events went. A pending delivery keeps its event (it is parked within a day anyway)."""
    conn.execute(
        "DELETE FROM webhook_deliveries d USING webhook_events w"
        " WHERE (w.space_id, w.id_ms, w.id_seq) = (d.space_id, d.id_ms, d.id_seq)"
        " AND d.status <> 'pending' AND w.created_at < now() - %s * interval '1 day'",
        (retention_days,),
    )
    return conn.execute(
        "DELETE FROM webhook_events w WHERE w.created_at < now() - %s * interval '1 day'"
        " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.status = 'pending'"
        " AND (d.space_id, d.id_ms, d.id_seq) = (w.space_id, w.id_ms, w.id_seq))",
        (retention_days,),
    ).rowcount
