-- Space appearance (issue 17, item 2): an agent's picture, shown to visitors in the widget's
-- header. The image's bytes live in the file store (chat/files/storage.py) under this id, a fresh
-- random one per upload, so the public URL names neither the agent nor the organization.
-- Idempotent, because schema.sql (the current shape) creates the same on a new database.
-- depends: 0017.ratings
ALTER TABLE agents ADD COLUMN IF NOT EXISTS avatar_id uuid;
CREATE UNIQUE INDEX IF NOT EXISTS agents_avatar ON agents (avatar_id) WHERE avatar_id IS NOT NULL;
