-- Signed visitor identity (issue 16, part 2; structures.md "Signed visitor identity"): each
-- space's identity secret, kept apart from `spaces` so that no read of a space (REST, the widget
-- config, the caches and Valkey copies of spaces) can carry it; and the site's user id of a
-- verified visitor, projected from the log, one visitor per (space, user id). Idempotent.
-- depends: 0013.webhooks
CREATE TABLE IF NOT EXISTS space_identity_secrets (
    space_id uuid PRIMARY KEY REFERENCES spaces (id),
    secret text NOT NULL,
    rotated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE visitors ADD COLUMN IF NOT EXISTS external_id text;
CREATE UNIQUE INDEX IF NOT EXISTS visitors_external_id
    ON visitors (space_id, external_id) WHERE external_id IS NOT NULL;
