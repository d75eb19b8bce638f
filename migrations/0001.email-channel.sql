-- Email conversations (issue 11): the thread's channel and email, and the mail outbox.
-- Idempotent, because schema.sql (the current shape) creates the same on a new database.
ALTER TABLE threads ADD COLUMN IF NOT EXISTS channel text CHECK (channel IN ('email'));
ALTER TABLE threads ADD COLUMN IF NOT EXISTS email text;

CREATE TABLE IF NOT EXISTS email_outbox (
    id_ms bigint NOT NULL,
    id_seq bigint NOT NULL,
    space_id uuid NOT NULL,
    thread_id uuid NOT NULL,
    recipient text NOT NULL CHECK (recipient IN ('team', 'visitor')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    failed_at timestamptz,
    PRIMARY KEY (id_ms, id_seq, recipient)
);
CREATE INDEX IF NOT EXISTS email_outbox_due ON email_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
