-- Webhooks (issue 16, part 1): endpoints, the events they may be sent, and deliveries.
-- Idempotent, because schema.sql (the current shape) creates the same on a new database.
-- depends: 0012.search-recent
-- Webhooks (issue 16, part 1; structures.md "Webhooks"). Endpoints are configuration, written by
-- the service (admins manage them). Events and deliveries are written by the webhook ingest
-- actor (chat/actors/webhook_ingest.py) from the space streams through its own consumer group,
-- keyed by stream entry id, so a re-read after a crash doubles nothing.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    url text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    -- The event kinds the endpoint chose (chat/webhooks/kinds.py); nothing else reaches it.
    kinds text[] NOT NULL,
    -- Kept in the clear: it signs every delivery (HMAC), so it cannot be hashed.
    secret text NOT NULL,
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 200),
    -- Disabled: no new deliveries are enqueued and pending ones wait (a pause, not a purge).
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_org ON webhook_endpoints (organization_id)
    WHERE deleted_at IS NULL;
-- Each public event once, as sent (the body's exact text), for organizations that have an
-- endpoint: what a replay re-sends after the stream was trimmed. Swept after
-- CHAT_WEBHOOK_RETENTION_DAYS.
CREATE TABLE IF NOT EXISTS webhook_events (
    space_id uuid NOT NULL,
    id_ms bigint NOT NULL,
    id_seq bigint NOT NULL,
    organization_id uuid NOT NULL,
    kind text NOT NULL,
    -- What a delivery keeps in order with: the conversation, else the visitor, else the space.
    lane text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (space_id, id_ms, id_seq)
);
CREATE INDEX IF NOT EXISTS webhook_events_org ON webhook_events (organization_id, id_ms, id_seq);
-- One row per (endpoint, event): its state and its log (attempts, last answer, latency).
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id),
    space_id uuid NOT NULL,
    id_ms bigint NOT NULL,
    id_seq bigint NOT NULL,
    lane text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    -- Retries stop (the row is parked as failed) this long after it was (re)enqueued.
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A sender holds a claimed row until then; past it (a crashed sender) it is claimed again.
    lease_until timestamptz,
    last_status integer,
    last_error text,
    last_latency_ms integer,
    last_attempt_at timestamptz,
    delivered_at timestamptz,
    PRIMARY KEY (endpoint_id, space_id, id_ms, id_seq)
);
-- The claim reads each endpoint's oldest pending rows (chat/db/webhook_queries.py _CLAIM) ...
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending
    ON webhook_deliveries (endpoint_id, id_ms, id_seq) WHERE status = 'pending';
-- ... and counts the rows in flight per endpoint (few: only leased ones are indexed).
CREATE INDEX IF NOT EXISTS webhook_deliveries_leased
    ON webhook_deliveries (endpoint_id) WHERE lease_until IS NOT NULL;
-- The delivery log, newest first.
CREATE INDEX IF NOT EXISTS webhook_deliveries_log
    ON webhook_deliveries (endpoint_id, id_ms DESC, id_seq DESC);
