-- Soft delete of conversations (issue 13, item 10): `deleted_at` is set by the projector from a
-- `thread.deleted` log entry and cleared by `thread.restored`; lists, the visitor panel and the
-- export leave deleted threads out. The partial index serves the admins' "Deleted" view.
-- Idempotent (a new database gets the same from schema.sql first).
-- depends: 0009.attachments
ALTER TABLE threads ADD COLUMN IF NOT EXISTS deleted_at timestamptz;
CREATE INDEX IF NOT EXISTS threads_deleted ON threads (space_id, deleted_at DESC, id)
    WHERE deleted_at IS NOT NULL;
-- The organization export pages threads by creation time (chat/db/export_queries.py).
CREATE INDEX IF NOT EXISTS threads_space_created ON threads (space_id, created_at, id);
