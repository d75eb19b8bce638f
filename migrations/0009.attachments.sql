-- Attachments (issue 13): files sent in conversations. Idempotent, because schema.sql (the current
-- shape) creates the same on a new database.
-- depends: 0008.visitor-context-read-state
-- A message's file, as the log carries it; written by the projector.
ALTER TABLE messages ADD COLUMN IF NOT EXISTS attachment jsonb;
-- Attachments (issue 13): one row per uploaded file, written by the upload route itself (like
-- configuration): it records a stored blob and whom it belongs to, not the conversation. The
-- bytes live in the file store (chat/files/storage.py) under the row's id.
CREATE TABLE IF NOT EXISTS attachments (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    space_id uuid NOT NULL REFERENCES spaces (id),
    -- The visitor whose conversation it belongs to: the uploader, or the visitor of the thread
    -- an agent uploaded to. Not a foreign key: the projector may not have written them yet.
    visitor_id uuid NOT NULL,
    -- The thread an agent uploaded to; null for a visitor's upload (their thread may not exist yet).
    thread_id uuid,
    uploader_type text NOT NULL CHECK (uploader_type IN ('visitor', 'agent')),
    uploader_id uuid NOT NULL,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    -- Sniffed from the bytes, never the declared type: one of chat/files/sniffing.py's types.
    content_type text NOT NULL,
    size integer NOT NULL CHECK (size > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS attachments_space_visitor ON attachments (space_id, visitor_id);
