-- Visitors' ratings of finished conversations (issue 17, item 2). Idempotent, because schema.sql
-- (the current shape) creates the same on a new database. Business hours live in the space
-- settings (JSON): no column for them.
-- depends: 0016.two-factor
-- One row per conversation, written only by the projector from `rated` entries.
CREATE TABLE IF NOT EXISTS ratings (
    thread_id uuid PRIMARY KEY,
    space_id uuid NOT NULL,
    visitor_id uuid NOT NULL,
    -- The agent who held the conversation when it finished; null when nobody had claimed it.
    agent_id uuid,
    score text NOT NULL CHECK (score IN ('good', 'bad')),
    comment text CHECK (char_length(comment) <= 1000),
    client_id text NOT NULL,
    entry_ms bigint NOT NULL,
    entry_seq bigint NOT NULL,
    created_at timestamptz NOT NULL
);
-- The report (GET /reports/ratings) reads a space's ratings by time.
CREATE INDEX IF NOT EXISTS ratings_space_created ON ratings (space_id, created_at);
