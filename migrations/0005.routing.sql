-- Team routing (issue 12): a conversation carries the group it is routed in (null: the whole
-- team). Written by the projector from the log's thread snapshots. Idempotent.
-- depends: 0004.canned-responses
ALTER TABLE threads ADD COLUMN IF NOT EXISTS group_id uuid;
