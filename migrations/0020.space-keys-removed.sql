-- Memory that matches the resume window (issue 18, item 4): a deleted space's Valkey keys are
-- removed by the retention sweep once its stream is projected, and this records when. Deleted
-- spaces from before it have none: the sweep removes their keys too. Idempotent, because
-- schema.sql (the current shape) creates the same on a new database.
-- depends: 0019.supervisor-role
ALTER TABLE spaces ADD COLUMN IF NOT EXISTS keys_removed_at timestamptz;
