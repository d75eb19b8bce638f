-- Two-factor sign-in (issue 16, part 4): TOTP enrolments, their recovery codes, the
-- organization's requirement, and whether a sign-in passed the second factor. Idempotent,
-- because schema.sql (the current shape) creates the same on a new database.
-- depends: 0015.api-keys
ALTER TABLE organizations ADD COLUMN IF NOT EXISTS require_two_factor boolean NOT NULL DEFAULT false;
-- Existing sign-ins passed no second factor: they keep refreshing only while their agent has none
-- and their organization requires none.
ALTER TABLE refresh_tokens ADD COLUMN IF NOT EXISTS second_factor boolean NOT NULL DEFAULT false;

CREATE TABLE IF NOT EXISTS two_factor (
    agent_id uuid PRIMARY KEY REFERENCES agents (id),
    -- AES-256-GCM of the base32 TOTP secret under a key derived from the server's secret_key,
    -- bound to the agent id (chat/auth/totp.py): a version byte, the nonce, the ciphertext.
    secret_sealed bytea NOT NULL,
    -- Null while enrolment waits for its first code; only a confirmed row asks for codes.
    confirmed_at timestamptz,
    -- The last accepted TOTP time step: a code is accepted once (a replay within its window is
    -- refused), and never one of an earlier step.
    last_step bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Single-use recovery codes: a keyed hash (HMAC-SHA256, key derived from secret_key) of each;
-- regenerating replaces the whole set.
CREATE TABLE IF NOT EXISTS two_factor_recovery_codes (
    agent_id uuid NOT NULL REFERENCES agents (id),
    code_hash bytea NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, code_hash)
);
