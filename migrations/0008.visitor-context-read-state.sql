-- Visitor context and read state (issue 13, items 5 and 6): the visitor's attributes, locale,
-- time zone, browser and OS; the pages they visited; each reader's read marker per thread.
-- Written by the projector from the log. Idempotent.
-- depends: 0007.search
ALTER TABLE visitors ADD COLUMN IF NOT EXISTS attributes jsonb;
ALTER TABLE visitors ADD COLUMN IF NOT EXISTS locale text;
ALTER TABLE visitors ADD COLUMN IF NOT EXISTS timezone text;
ALTER TABLE visitors ADD COLUMN IF NOT EXISTS browser text;
ALTER TABLE visitors ADD COLUMN IF NOT EXISTS os text;

CREATE TABLE IF NOT EXISTS visitor_pages (
    visitor_id uuid NOT NULL,
    id_ms bigint NOT NULL,
    id_seq bigint NOT NULL,
    url text NOT NULL,
    title text,
    PRIMARY KEY (visitor_id, id_ms, id_seq)
);

CREATE TABLE IF NOT EXISTS read_markers (
    thread_id uuid NOT NULL,
    reader_id text NOT NULL,
    message_ms bigint NOT NULL,
    message_seq bigint NOT NULL,
    PRIMARY KEY (thread_id, reader_id)
);
