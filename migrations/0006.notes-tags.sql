-- Private notes and tags (issue 13, items 2 and 3). Idempotent, because schema.sql (the current
-- shape) creates the same on a new database.
-- depends: 0005.routing
-- Private notes: a table of their own, written only by the projector.
CREATE TABLE IF NOT EXISTS notes (
    thread_id uuid NOT NULL,
    id_ms bigint NOT NULL,
    id_seq bigint NOT NULL,
    space_id uuid NOT NULL,
    author_id uuid NOT NULL,
    author_name text NOT NULL,
    content text NOT NULL,
    client_id text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (thread_id, id_ms, id_seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS notes_client_id ON notes (thread_id, author_id, client_id);

-- An organization's tags (configuration, written by the service; admins manage them).
CREATE TABLE IF NOT EXISTS tags (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 40),
    -- '#rrggbb', lowercased on input.
    colour text NOT NULL CHECK (colour ~ '^#[0-9a-f]{6}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS tags_org_name ON tags (organization_id, lower(name));

-- The tags on conversations, written by the projector from `thread.tagged` / `thread.untagged`
-- entries: one row per (thread, tag) holding the latest entry's verdict, so a replayed older
-- entry never undoes a newer one. No foreign keys: an entry may be projected before its thread,
-- and a tag deleted since is dropped by the join with `tags` in every read.
CREATE TABLE IF NOT EXISTS thread_tags (
    thread_id uuid NOT NULL,
    tag_id uuid NOT NULL,
    present boolean NOT NULL,
    entry_ms bigint NOT NULL,
    entry_seq bigint NOT NULL,
    PRIMARY KEY (thread_id, tag_id)
);
CREATE INDEX IF NOT EXISTS thread_tags_tag ON thread_tags (tag_id, thread_id) WHERE present;
