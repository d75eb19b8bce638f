-- Supervisors (issue 20, item 1): a role between agent and admin, and whispers, private notes
-- addressed to one agent (structures.md, "Roles" and "Whispers").
-- agents.role gains 'supervisor'; the CHECK is replaced under its own name (the one PostgreSQL
-- gave the inline CHECK of schema.sql), so a new database and a migrated one end the same.
-- notes.to_agent_id: the whisper's addressee (null: an ordinary note, every agent's).
-- Idempotent, because schema.sql (the current shape) creates the same on a new database.
-- depends: 0018.appearance
ALTER TABLE agents DROP CONSTRAINT IF EXISTS agents_role_check;
ALTER TABLE agents ADD CONSTRAINT agents_role_check
    CHECK (role IN ('admin', 'supervisor', 'agent'));
ALTER TABLE notes ADD COLUMN IF NOT EXISTS to_agent_id uuid;
