-- Reports (issue 20, item 3; README "Reports", structures.md "Reports"): the organization's time
-- zone, which decides where a report's days and weeks begin, and the two indexes the report
-- queries need beyond those that exist (threads_space_created serves "opened"). Idempotent,
-- because schema.sql (the current shape) creates the same on a new database.
-- depends: 0018.appearance
ALTER TABLE organizations ADD COLUMN IF NOT EXISTS time_zone text NOT NULL DEFAULT 'UTC';
-- "Closed" and resolution time read a space's conversations by the time they ended.
CREATE INDEX IF NOT EXISTS threads_space_closed ON threads (space_id, closed_at)
    WHERE closed_at IS NOT NULL;
-- First response time: one probe per conversation finds its first agent message.
CREATE INDEX IF NOT EXISTS messages_agent_first ON messages (thread_id, created_at)
    WHERE sender_type = 'agent';
