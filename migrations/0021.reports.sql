-- Reports (issue 20, item 3; README "Reports", structures.md "Reports"): the organization's time
-- zone, which decides where a report's days and weeks begin; the index of conversations by the
-- time they ended; and the per-conversation rollup of messages (conversation_stats, kept by a
-- trigger: schema.sql says why), filled here from the messages already stored. Idempotent,
-- because schema.sql (the current shape) creates the same on a new database and runs first.
-- depends: 0020.space-keys-removed
ALTER TABLE organizations ADD COLUMN IF NOT EXISTS time_zone text NOT NULL DEFAULT 'UTC';
-- "Closed" and resolution time read a space's conversations by the time they ended.
CREATE INDEX IF NOT EXISTS threads_space_closed ON threads (space_id, closed_at)
    WHERE closed_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS conversation_stats (
    thread_id uuid PRIMARY KEY,
    visitor_messages integer NOT NULL DEFAULT 0,
    agent_messages integer NOT NULL DEFAULT 0,
    first_agent_message_at timestamptz
);
CREATE OR REPLACE FUNCTION conversation_stats_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO conversation_stats AS s
        (thread_id, visitor_messages, agent_messages, first_agent_message_at)
    SELECT thread_id, count(*) FILTER (WHERE sender_type = 'visitor'),
        count(*) FILTER (WHERE sender_type = 'agent'),
        min(created_at) FILTER (WHERE sender_type = 'agent')
    FROM inserted GROUP BY thread_id ORDER BY thread_id
    ON CONFLICT (thread_id) DO UPDATE SET
        visitor_messages = s.visitor_messages + EXCLUDED.visitor_messages,
        agent_messages = s.agent_messages + EXCLUDED.agent_messages,
        first_agent_message_at = least(s.first_agent_message_at, EXCLUDED.first_agent_message_at);
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER messages_conversation_stats AFTER INSERT ON messages
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION conversation_stats_add();

-- The backfill, exact: inserts wait while it reads (SHARE blocks writers, not readers), and it
-- overwrites what the trigger may have counted since schema.sql created it, with the whole count.
LOCK TABLE messages IN SHARE MODE;
INSERT INTO conversation_stats (thread_id, visitor_messages, agent_messages, first_agent_message_at)
SELECT thread_id, count(*) FILTER (WHERE sender_type = 'visitor'),
    count(*) FILTER (WHERE sender_type = 'agent'),
    min(created_at) FILTER (WHERE sender_type = 'agent')
FROM messages GROUP BY thread_id
ON CONFLICT (thread_id) DO UPDATE SET visitor_messages = EXCLUDED.visitor_messages,
    agent_messages = EXCLUDED.agent_messages,
    first_agent_message_at = EXCLUDED.first_agent_message_at;
