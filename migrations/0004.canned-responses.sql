-- Canned responses (issue 13): organization-wide and personal replies with a shortcut.
-- Idempotent, because schema.sql (the current shape) creates the same on a new database.
-- depends: 0003.waiting-queue-cap
CREATE TABLE IF NOT EXISTS canned_responses (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    -- null: organization-wide (admins manage it); else the one agent who sees and manages it.
    owner_agent_id uuid REFERENCES agents (id),
    -- Lowercased on input (chat/http/bodies.py), so the unique indexes are case-insensitive.
    shortcut text NOT NULL CHECK (shortcut ~ '^[a-z0-9_-]{1,32}$'),
    title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 120),
    -- Placeholders such as {{visitor.name}} are kept as written: the console expands them.
    content text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 4000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
-- A shortcut is taken once among an organization's live org-wide responses, and once among
-- each agent's live personal ones (a personal one may share an org-wide shortcut).
CREATE UNIQUE INDEX IF NOT EXISTS canned_responses_org_shortcut
    ON canned_responses (organization_id, shortcut)
    WHERE owner_agent_id IS NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS canned_responses_personal_shortcut
    ON canned_responses (owner_agent_id, shortcut)
    WHERE owner_agent_id IS NOT NULL AND deleted_at IS NULL;
