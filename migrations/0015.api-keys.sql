-- API keys for server-to-server use (issue 16, item 3; structures.md, "API keys"). Idempotent,
-- because schema.sql (the current shape) creates the same on a new database.
-- depends: 0014.visitor-identity
CREATE TABLE IF NOT EXISTS api_keys (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    -- The admin who created the key: the key acts as this agent, and only while it is a live
    -- admin.
    created_by uuid NOT NULL REFERENCES agents (id),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
    scopes text[] NOT NULL
        CHECK (cardinality(scopes) >= 1 AND scopes <@ ARRAY['read', 'write', 'admin']::text[]),
    -- SHA-256 of the whole key (chat/auth/api_keys.py says why not argon2); the key itself is
    -- shown once and never stored.
    key_hash bytea NOT NULL UNIQUE,
    prefix text NOT NULL,
    last4 text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Written at most once a minute per key, not on every request.
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_organization ON api_keys (organization_id, created_at, id);
