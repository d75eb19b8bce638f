-- Groups (departments) and their members, and the organization's default capacity for new
-- agents (issue 12). Idempotent, because schema.sql (the current shape) creates the same on a new
-- database.
-- depends: 0001.email-channel
ALTER TABLE organizations ADD COLUMN IF NOT EXISTS default_max_concurrent_chats integer
    NOT NULL DEFAULT 5 CHECK (default_max_concurrent_chats BETWEEN 1 AND 1000);

CREATE TABLE IF NOT EXISTS groups (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    strategy text NOT NULL DEFAULT 'manual'
        CHECK (strategy IN ('manual', 'round_robin', 'least_loaded')),
    sticky boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS groups_live_name
    ON groups (organization_id, lower(name)) WHERE deleted_at IS NULL;

CREATE TABLE IF NOT EXISTS group_members (
    group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, agent_id)
);
CREATE INDEX IF NOT EXISTS group_members_agent ON group_members (agent_id);
