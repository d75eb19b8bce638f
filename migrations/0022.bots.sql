-- Bots (issue 20, item 4; README "Bots", structures.md "Bots"): a bot is a kind of agent. It has
-- no password (it never signs in; the CHECK keeps its password_hash empty, which no password
-- verifies), it connects with its own token (bot_tokens: only a hash, shown once, rotatable), and
-- the built-in rules bot keeps its rules in agents.bot_rules (null for an external bot). A group
-- routes its new conversations to a bot first by groups.bot_agent_id (a space by its setting
-- `bot_agent_id`, chat/space_settings.py); the service checks it names a live bot of the same
-- organization. Idempotent, because schema.sql (the current shape) creates the same on a new
-- database and runs first.
-- depends: 0021.reports
ALTER TABLE agents ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'human'
    CHECK (kind IN ('human', 'bot'));
ALTER TABLE agents ADD COLUMN IF NOT EXISTS bot_rules jsonb;
ALTER TABLE agents DROP CONSTRAINT IF EXISTS agents_bot_no_password;
ALTER TABLE agents ADD CONSTRAINT agents_bot_no_password
    CHECK (kind = 'human' OR password_hash = '');
ALTER TABLE groups ADD COLUMN IF NOT EXISTS bot_agent_id uuid REFERENCES agents (id);

CREATE TABLE IF NOT EXISTS bot_tokens (
    agent_id uuid PRIMARY KEY REFERENCES agents (id),
    token_hash bytea NOT NULL UNIQUE,
    prefix text NOT NULL,
    last4 text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
