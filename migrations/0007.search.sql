-- Search (issue 13): a full-text vector per message and per visitor, each with a GIN index
-- (structures.md, "Search"). Idempotent, because schema.sql (the current shape) creates the same
-- on a new database. Adding a stored generated column rewrites the table once: on a large
-- messages table, run this in a quiet hour.
-- depends: 0006.notes-tags
ALTER TABLE messages ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS (
    to_tsvector('english'::regconfig, translate(content, '<>', '  '))
    || to_tsvector('simple'::regconfig, translate(content, '<>', '  '))
) STORED;
CREATE INDEX IF NOT EXISTS messages_search ON messages USING gin (search_vector);
ALTER TABLE visitors ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig,
        translate(coalesce(name, '') || ' ' || coalesce(email, ''), '<>', '  '))
) STORED;
CREATE INDEX IF NOT EXISTS visitors_search ON visitors USING gin (search_vector);
