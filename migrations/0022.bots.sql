-- Bots (issue 20, item 4; README "Bots", structures.md "Bots"): a bot is a kind of agent. It has
-- no password (it never signs in; the CHECK keeps its password_hash empty, which no password
-- verifies), it connects with its own token (bot_tokens: only a hash, shown once, rotatable), and
-- the built-in rules bot keeps its rules in agents.bot_rules (null for an external bot). A group
-- routes its new conversations to a bot first by groups.bot_agent_id (a space by its setting
-- `bot_agent_id`, chat/space_settings.py); the service checks it names a live bot of the same
-- organization. Reports count a bot's messages apart from people's (conversation_stats gains
-- bot_messages and first_bot_message_at; its trigger's function tells them apart; nothing to
-- backfill: no bot wrote before this). Idempotent, because schema.sql (the current shape)
-- creates the same on a new database and runs first.
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

ALTER TABLE conversation_stats ADD COLUMN IF NOT EXISTS bot_messages integer NOT NULL DEFAULT 0;
ALTER TABLE conversation_stats ADD COLUMN IF NOT EXISTS first_bot_message_at timestamptz;
CREATE OR REPLACE FUNCTION conversation_stats_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In thread id order, so concurrent batches lock shared rows in one order (no deadlock).
    -- A bot's message (its sender a bot agent, found by primary key) counts apart from people's.
    INSERT INTO conversation_stats AS s (thread_id, visitor_messages, agent_messages,
        first_agent_message_at, bot_messages, first_bot_message_at)
    SELECT i.thread_id, count(*) FILTER (WHERE i.sender_type = 'visitor'),
        count(*) FILTER (WHERE i.sender_type = 'agent' AND b.id IS NULL),
        min(i.created_at) FILTER (WHERE i.sender_type = 'agent' AND b.id IS NULL),
        count(b.id), min(i.created_at) FILTER (WHERE b.id IS NOT NULL)
    FROM inserted i LEFT JOIN agents b ON i.sender_type = 'agent' AND b.kind = 'bot'
        AND b.id = CASE WHEN i.sender_id ~ '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
            THEN i.sender_id::uuid END
    GROUP BY i.thread_id ORDER BY i.thread_id
    ON CONFLICT (thread_id) DO UPDATE SET
        visitor_messages = s.visitor_messages + EXCLUDED.visitor_messages,
        agent_messages = s.agent_messages + EXCLUDED.agent_messages,
        first_agent_message_at = least(s.first_agent_message_at, EXCLUDED.first_agent_message_at),
        bot_messages = s.bot_messages + EXCLUDED.bot_messages,
        first_bot_message_at = least(s.first_bot_message_at, EXCLUDED.first_bot_message_at);
    RETURN NULL;
END
$$;
