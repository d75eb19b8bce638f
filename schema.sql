-- The one source of truth for tables: their current shape. Applied idempotently at start and by
-- `chat migrate`, followed by the versioned migrations of migrations/ (yoyo-migrations), which
-- bring a database created by an older schema.sql to this shape (chat/db/migrations.py).
-- Configuration (organizations, agents, spaces, tokens) is written by the service directly;
-- conversation data (visitors, threads, messages) only by the projector, keyed by stream entry id.

CREATE TABLE IF NOT EXISTS organizations (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    -- The capacity a new agent gets when its creator names none. Added by
    -- migrations/0002.groups.sql.
    default_max_concurrent_chats integer NOT NULL DEFAULT 5
        CHECK (default_max_concurrent_chats BETWEEN 1 AND 1000),
    -- Every agent must sign in with a second factor (TOTP). Added by
    -- migrations/0016.two-factor.sql.
    require_two_factor boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The IANA zone in which reports cut days and weeks (validated by the service against
    -- zoneinfo). Added by migrations/0021.reports.sql.
    time_zone text NOT NULL DEFAULT 'UTC'
);

CREATE TABLE IF NOT EXISTS agents (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    email text NOT NULL,
    name text NOT NULL,
    -- 'supervisor' added by migrations/0019.supervisor-role.sql (structures.md, "Roles").
    role text NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    password_hash text NOT NULL,
    accepting_chats boolean NOT NULL DEFAULT true,
    max_concurrent_chats integer NOT NULL DEFAULT 5,
    last_seen_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    -- The agent's picture in the widget's header: a file store key (a random id, never the
    -- agent's), served publicly at /api/v1/avatars/{avatar_id}. Added by
    -- migrations/0018.appearance.sql.
    avatar_id uuid,
    -- A bot (issue 20, item 4; structures.md "Bots") is an agent that never signs in with a
    -- password (its password_hash stays empty, which no password verifies) and connects with its
    -- own token (bot_tokens). bot_rules: the built-in rules bot's rules; null for an external
    -- bot. Added by migrations/0022.bots.sql.
    kind text NOT NULL DEFAULT 'human' CHECK (kind IN ('human', 'bot')),
    bot_rules jsonb,
    CONSTRAINT agents_bot_no_password CHECK (kind = 'human' OR password_hash = '')
);
CREATE UNIQUE INDEX IF NOT EXISTS agents_live_email ON agents (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS agents_organization ON agents (organization_id);
-- The avatar route's lookup index (agents_avatar, unique on avatar_id) is made by migration 0018
-- only: schema.sql runs before the migrations, on databases whose agents have no avatar_id yet.

CREATE TABLE IF NOT EXISTS refresh_tokens (
    id uuid PRIMARY KEY,
    agent_id uuid NOT NULL REFERENCES agents (id),
    family_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    -- The sign-in (family) passed the second factor; each rotation carries it over. Added by
    -- migrations/0016.two-factor.sql.
    second_factor boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);

-- API keys (migration 0015; structures.md, "API keys").
CREATE TABLE IF NOT EXISTS api_keys (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    -- The admin who created the key: the key acts as this agent, and only while it is a live
    -- admin.
    created_by uuid NOT NULL REFERENCES agents (id),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
    scopes text[] NOT NULL
        CHECK (cardinality(scopes) >= 1 AND scopes <@ ARRAY['read', 'write', 'admin']::text[]),
    -- SHA-256 of the whole key (chat/auth/api_keys.py says why not argon2); the key itself is
    -- shown once and never stored.
    key_hash bytea NOT NULL UNIQUE,
    prefix text NOT NULL,
    last4 text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Written at most once a minute per key, not on every request.
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_organization ON api_keys (organization_id, created_at, id);

-- A bot's token (structures.md, "Bots"; migrations/0022.bots.sql): one per bot, shown once,
-- replaced by a rotation. Only SHA-256 of it is kept, as for API keys (chat/auth/api_keys.py
-- says why that is enough for 256 random bits).
CREATE TABLE IF NOT EXISTS bot_tokens (
    agent_id uuid PRIMARY KEY REFERENCES agents (id),
    token_hash bytea NOT NULL UNIQUE,
    prefix text NOT NULL,
    last4 text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);

CREATE TABLE IF NOT EXISTS spaces (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name text NOT NULL,
    widget_key text NOT NULL UNIQUE,
    allowed_domains text[] NOT NULL,
    settings jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    -- When the retention sweep removed a deleted space's Valkey keys (chat/actors/retention.py):
    -- until then the projector keeps following its stream, so nothing acked goes unprojected.
    keys_removed_at timestamptz
);
CREATE INDEX IF NOT EXISTS spaces_organization ON spaces (organization_id);

-- Groups (departments) of an organization's agents, and who belongs to each (issue 12). A space
-- names its default group in its settings (`default_group_id`); the routing engine reads the
-- strategy. Soft-deleted: a deleted group keeps its rows, is no longer found, and its name is free
-- again. Added by migrations/0002.groups.sql.
CREATE TABLE IF NOT EXISTS groups (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    strategy text NOT NULL DEFAULT 'manual'
        CHECK (strategy IN ('manual', 'round_robin', 'least_loaded')),
    sticky boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    -- Hand an unanswered router-assigned conversation to another member after this many
    -- seconds (null: off). Added by migrations/0011.auto-transfer.sql.
    auto_transfer_seconds integer CHECK (auto_transfer_seconds BETWEEN 1 AND 3600),
    -- A live bot of the same organization (checked by the service) that gets the group's new
    -- conversations first and hands them over to the members (structures.md, "Bots"); null:
    -- none. Added by migrations/0022.bots.sql.
    bot_agent_id uuid REFERENCES agents (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS groups_live_name
    ON groups (organization_id, lower(name)) WHERE deleted_at IS NULL;

-- Agents are soft-deleted too: deleting one removes its memberships (chat/db/accounts.py), and
-- a hard delete of either side takes the membership with it.
CREATE TABLE IF NOT EXISTS group_members (
    group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, agent_id)
);
-- An agent's groups (the agent JSON's group_ids).
CREATE INDEX IF NOT EXISTS group_members_agent ON group_members (agent_id);

-- Projected rows carry the (ms, seq) of the entry that last wrote them, so a replayed or
-- reclaimed older entry never overwrites a newer state.
CREATE TABLE IF NOT EXISTS visitors (
    id uuid PRIMARY KEY,
    space_id uuid NOT NULL,
    name text,
    email text,
    current_url text,
    created_at timestamptz NOT NULL,
    -- Visitor context (structures.md, "Visitor context"; migrations/0008): the host page's
    -- attributes from ChatWidget.identify (unverified), the browser's locale and time zone, and
    -- the browser and OS named by its User-Agent.
    attributes jsonb,
    locale text,
    timezone text,
    browser text,
    os text,
    entry_ms bigint NOT NULL,
    entry_seq bigint NOT NULL,
    -- Signed visitor identity (structures.md, "Signed visitor identity"; migrations/0014): the
    -- site's user id (`sub`) of a verified visitor; null for an anonymous one.
    external_id text,
    -- Search (structures.md, "Search"): names and emails, unstemmed ('simple'), so a name is
    -- found as written; searched by prefix. Added by migrations/0007.search.sql.
    search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig,
            translate(coalesce(name, '') || ' ' || coalesce(email, ''), '<>', '  '))
    ) STORED
);

-- The pages a visitor was on, one row per `visitor.updated` entry with a URL (its id is the
-- time), the newest VISITOR_PAGES_KEPT kept per visitor by the projector. migrations/0008.
CREATE TABLE IF NOT EXISTS visitor_pages (
    visitor_id uuid NOT NULL,
    id_ms bigint NOT NULL,
    id_seq bigint NOT NULL,
    url text NOT NULL,
    title text,
    PRIMARY KEY (visitor_id, id_ms, id_seq)
);

-- Each reader's read marker per thread (an agent, or the thread's visitor as reader_id
-- 'visitor'): the id of the last message read, written by the projector from `read` entries,
-- only ever forward. The thread lists' unread counts read it. migrations/0008.
CREATE TABLE IF NOT EXISTS read_markers (
    thread_id uuid NOT NULL,
    reader_id text NOT NULL,
    message_ms bigint NOT NULL,
    message_seq bigint NOT NULL,
    PRIMARY KEY (thread_id, reader_id)
);

CREATE TABLE IF NOT EXISTS threads (
    id uuid PRIMARY KEY,
    space_id uuid NOT NULL,
    visitor_id uuid NOT NULL,
    assigned_agent_id uuid,
    status text NOT NULL CHECK (status IN ('unassigned', 'active', 'closed', 'expired')),
    last_activity_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    closed_at timestamptz,
    -- 'email' for a conversation left offline, answered by email to `email` (structures.md,
    -- "Email"); null otherwise. Added by migrations/0001.email-channel.sql.
    channel text CHECK (channel IN ('email')),
    email text,
    -- The group the conversation is routed in (null: the whole team); migrations/0005.routing.sql.
    group_id uuid,
    -- Soft delete (structures.md, "Deleting conversations and visitors"): set by a projected
    -- `thread.deleted`, cleared by `thread.restored`; migrations/0010.soft-delete.sql.
    deleted_at timestamptz,
    entry_ms bigint NOT NULL,
    entry_seq bigint NOT NULL
);
-- The index of deleted threads (the admins' "Deleted" view) is made by migration 0010 only:
-- schema.sql runs before the migrations, on databases whose threads have no deleted_at yet.
-- The organization export pages threads by creation time (chat/db/export_queries.py).
CREATE INDEX IF NOT EXISTS threads_space_created ON threads (space_id, created_at, id);
CREATE INDEX IF NOT EXISTS threads_space_status_activity
    ON threads (space_id, status, last_activity_at DESC, id);
CREATE INDEX IF NOT EXISTS threads_visitor ON threads (visitor_id);
-- An agent's load, counted before a transfer (chat/db/accounts.py active_chats).
CREATE INDEX IF NOT EXISTS threads_active_agent ON threads (assigned_agent_id)
    WHERE status = 'active';
-- Reports (chat/db/report_queries.py): conversations by the time they ended; migrations/0021.
CREATE INDEX IF NOT EXISTS threads_space_closed ON threads (space_id, closed_at)
    WHERE closed_at IS NOT NULL;

-- A message's id is its stream entry id "<id_ms>-<id_seq>". No foreign key to threads: under
-- reclaim (XAUTOCLAIM) a message may be projected before its thread's opening entry.
CREATE TABLE IF NOT EXISTS messages (
    thread_id uuid NOT NULL,
    id_ms bigint NOT NULL,
    id_seq bigint NOT NULL,
    space_id uuid NOT NULL,
    sender_type text NOT NULL CHECK (sender_type IN ('visitor', 'agent', 'system')),
    sender_id text NOT NULL,
    sender_name text NOT NULL,
    content text NOT NULL,
    client_id text NOT NULL,
    created_at timestamptz NOT NULL,
    -- Search (structures.md, "Search"): English stems ("refunds" finds "refund") and the words
    -- as written ('simple': names, codes, other languages). Content is plain text, not HTML:
    -- angle brackets are blanked so the parser's tag rule neither hides words nor skips a
    -- <script> body. Added by migrations/0007.search.sql.
    search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('english'::regconfig, translate(content, '<>', '  '))
        || to_tsvector('simple'::regconfig, translate(content, '<>', '  '))
    ) STORED,
    -- The file the message carries ({id, name, content_type, size}; attachments table), or null.
    attachment jsonb,
    -- The buttons offered under an agent's or bot's message ([{label}], structures.md "Quick
    -- replies"), or null. Added by migrations/0023.quick-replies.sql.
    quick_replies jsonb,
    PRIMARY KEY (thread_id, id_ms, id_seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_id ON messages (thread_id, sender_id, client_id);
-- Newest first, for search's candidates (chat/db/search_queries.py; migrations/0012).
CREATE INDEX IF NOT EXISTS messages_recent ON messages (id_ms DESC, id_seq DESC);

-- Reports (structures.md, "Reports"; migrations/0021.reports.sql): per conversation, what the
-- reports need of its messages, so a report over a year reads one row per conversation rather
-- than probing its messages (measured: README "Performance"). Kept by a statement trigger on
-- messages, in the inserting statement's transaction, from the rows it really inserted (a
-- replayed entry that ON CONFLICT skips is not in the transition table): exact whatever writes
-- the messages, the projector, an older process during a deploy, or a bulk COPY. No foreign key:
-- like messages, a row may come before its thread's. Erasing a visitor deletes their rows.
CREATE TABLE IF NOT EXISTS conversation_stats (
    thread_id uuid PRIMARY KEY,
    visitor_messages integer NOT NULL DEFAULT 0,
    agent_messages integer NOT NULL DEFAULT 0,
    -- The first agent message's time: first response time is this minus the thread's start.
    -- People's only: a bot's messages are counted apart (migrations/0022.bots.sql).
    first_agent_message_at timestamptz,
    -- Bots' messages (structures.md, "Bots"; "Reports"): how many, and the first one's time.
    bot_messages integer NOT NULL DEFAULT 0,
    first_bot_message_at timestamptz
);
CREATE OR REPLACE FUNCTION conversation_stats_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In thread id order, so concurrent batches lock shared rows in one order (no deadlock).
    -- A bot's message (its sender a bot agent, found by primary key) counts apart from people's.
    INSERT INTO conversation_stats AS s (thread_id, visitor_messages, agent_messages,
        first_agent_message_at, bot_messages, first_bot_message_at)
    SELECT i.thread_id, count(*) FILTER (WHERE i.sender_type = 'visitor'),
        count(*) FILTER (WHERE i.sender_type = 'agent' AND b.id IS NULL),
        min(i.created_at) FILTER (WHERE i.sender_type = 'agent' AND b.id IS NULL),
        count(b.id), min(i.created_at) FILTER (WHERE b.id IS NOT NULL)
    FROM inserted i LEFT JOIN agents b ON i.sender_type = 'agent' AND b.kind = 'bot'
        AND b.id = CASE WHEN i.sender_id ~ '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
            THEN i.sender_id::uuid END
    GROUP BY i.thread_id ORDER BY i.thread_id
    ON CONFLICT (thread_id) DO UPDATE SET
        visitor_messages = s.visitor_messages + EXCLUDED.visitor_messages,
        agent_messages = s.agent_messages + EXCLUDED.agent_messages,
        first_agent_message_at = least(s.first_agent_message_at, EXCLUDED.first_agent_message_at),
        bot_messages = s.bot_messages + EXCLUDED.bot_messages,
        first_bot_message_at = least(s.first_bot_message_at, EXCLUDED.first_bot_message_at);
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER messages_conversation_stats AFTER INSERT ON messages
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION conversation_stats_add();

-- Mail to send, written by the projector with the message it is about (an outbox), sent by
-- chat/actors/mailer.py: `team` notifies the organization's agents of a visitor's offline message
-- or email reply, `visitor` mails an agent's answer to the thread's email. A row is claimed by
-- moving `next_attempt_at` ahead, so two processes never send it at once; it is kept once sent.
-- Added by migrations/0001.email-channel.sql.
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

-- Canned responses (issue 13): saved replies an agent inserts by typing /shortcut in the
-- console's composer. Organization-wide ones (owner_agent_id null) are managed by admins and
-- offered to every agent; personal ones only to their owner. Soft-deleted: a deleted one is no
-- longer found and its shortcut is free again. The unique indexes serve the lists too (an
-- agent's list reads the organization's by one and their own by the other). Added by
-- migrations/0004.canned-responses.sql.
CREATE TABLE IF NOT EXISTS canned_responses (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    -- null: organization-wide (admins manage it); else the one agent who sees and manages it.
    owner_agent_id uuid REFERENCES agents (id),
    -- Lowercased on input (chat/http/bodies.py), so the unique indexes are case-insensitive.
    shortcut text NOT NULL CHECK (shortcut ~ '^[a-z0-9_-]{1,32}$'),
    title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 120),
    -- Placeholders such as {{visitor.name}} are kept as written: the console expands them.
    content text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 4000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
-- A shortcut is taken once among an organization's live org-wide responses, and once among
-- each agent's live personal ones (a personal one may share an org-wide shortcut).
CREATE UNIQUE INDEX IF NOT EXISTS canned_responses_org_shortcut
    ON canned_responses (organization_id, shortcut)
    WHERE owner_agent_id IS NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS canned_responses_personal_shortcut
    ON canned_responses (owner_agent_id, shortcut)
    WHERE owner_agent_id IS NOT NULL AND deleted_at IS NULL;

-- Private notes (issue 13): what agents write in a conversation for each other. A table of their
-- own, written only by the projector from `note.created` entries (keyed by entry id), so no
-- query of `messages` (every visitor path) can ever return one. migrations/0006.notes-tags.sql.
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
    PRIMARY KEY (thread_id, id_ms, id_seq),
    -- A whisper's addressee (a supervisor's note to the agent holding the conversation; null:
    -- an ordinary note). Added by migrations/0019.supervisor-role.sql.
    to_agent_id uuid
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
-- The search indexes (structures.md, "Search"). This file also runs first on a database from
-- before migrations/0007.search.sql, whose tables lack search_vector until that migration adds
-- the columns and these same indexes; so they are created here only where the columns exist.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_name = 'messages' AND column_name = 'search_vector') THEN
        CREATE INDEX IF NOT EXISTS messages_search ON messages USING gin (search_vector);
    END IF;
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_name = 'visitors' AND column_name = 'search_vector') THEN
        CREATE INDEX IF NOT EXISTS visitors_search ON visitors USING gin (search_vector);
    END IF;
END
$$;
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

-- Signed visitor identity (structures.md, "Signed visitor identity"; migrations/0014.visitor-
-- identity.sql). A space's identity secret (HS256), generated by the server and rotated by an
-- admin; its own table, so no read of a space carries it. Configuration: written by its route.
CREATE TABLE IF NOT EXISTS space_identity_secrets (
    space_id uuid PRIMARY KEY REFERENCES spaces (id),
    secret text NOT NULL,
    rotated_at timestamptz NOT NULL DEFAULT now()
);
-- One verified visitor per (space, site user id). A database from before 0014 gets the column
-- from that migration first, which creates the same index.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_name = 'visitors' AND column_name = 'external_id') THEN
        CREATE UNIQUE INDEX IF NOT EXISTS visitors_external_id
            ON visitors (space_id, external_id) WHERE external_id IS NOT NULL;
    END IF;
END
$$;

-- Two-factor sign-in (issue 16): an agent's TOTP enrolment and its recovery codes. Added by
-- migrations/0016.two-factor.sql.
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
-- Webhooks (issue 16, part 1; structures.md "Webhooks"). Endpoints are configuration, written by
-- the service (admins manage them). Events and deliveries are written by the webhook ingest
-- actor (chat/actors/webhook_ingest.py) from the space streams through its own consumer group,
-- keyed by stream entry id, so a re-read after a crash doubles nothing.
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    url text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    -- The event kinds the endpoint chose (chat/webhooks/kinds.py); nothing else reaches it.
    kinds text[] NOT NULL,
    -- Kept in the clear: it signs every delivery (HMAC), so it cannot be hashed.
    secret text NOT NULL,
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 200),
    -- Disabled: no new deliveries are enqueued and pending ones wait (a pause, not a purge).
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_org ON webhook_endpoints (organization_id)
    WHERE deleted_at IS NULL;
-- Each public event once, as sent (the body's exact text), for organizations that have an
-- endpoint: what a replay re-sends after the stream was trimmed. Swept after
-- CHAT_WEBHOOK_RETENTION_DAYS.
CREATE TABLE IF NOT EXISTS webhook_events (
    space_id uuid NOT NULL,
    id_ms bigint NOT NULL,
    id_seq bigint NOT NULL,
    organization_id uuid NOT NULL,
    kind text NOT NULL,
    -- What a delivery keeps in order with: the conversation, else the visitor, else the space.
    lane text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (space_id, id_ms, id_seq)
);
CREATE INDEX IF NOT EXISTS webhook_events_org ON webhook_events (organization_id, id_ms, id_seq);
-- One row per (endpoint, event): its state and its log (attempts, last answer, latency).
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id),
    space_id uuid NOT NULL,
    id_ms bigint NOT NULL,
    id_seq bigint NOT NULL,
    lane text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    -- Retries stop (the row is parked as failed) this long after it was (re)enqueued.
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A sender holds a claimed row until then; past it (a crashed sender) it is claimed again.
    lease_until timestamptz,
    last_status integer,
    last_error text,
    last_latency_ms integer,
    last_attempt_at timestamptz,
    delivered_at timestamptz,
    PRIMARY KEY (endpoint_id, space_id, id_ms, id_seq)
);
-- The claim reads each endpoint's oldest pending rows (chat/db/webhook_queries.py _CLAIM) ...
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending
    ON webhook_deliveries (endpoint_id, id_ms, id_seq) WHERE status = 'pending';
-- ... and counts the rows in flight per endpoint (few: only leased ones are indexed).
CREATE INDEX IF NOT EXISTS webhook_deliveries_leased
    ON webhook_deliveries (endpoint_id) WHERE lease_until IS NOT NULL;
-- The delivery log, newest first.
CREATE INDEX IF NOT EXISTS webhook_deliveries_log
    ON webhook_deliveries (endpoint_id, id_ms DESC, id_seq DESC);

-- Visitors' ratings of finished conversations (issue 17; structures.md, "Ratings"): one per
-- thread, written only by the projector from `rated` entries (the first stays).
-- migrations/0017.ratings.sql.
CREATE TABLE IF NOT EXISTS ratings (
    thread_id uuid PRIMARY KEY,
    space_id uuid NOT NULL,
    visitor_id uuid NOT NULL,
    -- The agent who held the conversation when it finished; null when nobody had claimed it.
    agent_id uuid,
    score text NOT NULL CHECK (score IN ('good', 'bad')),
    comment text CHECK (char_length(comment) <= 1000),
    client_id text NOT NULL,
    entry_ms bigint NOT NULL,
    entry_seq bigint NOT NULL,
    created_at timestamptz NOT NULL
);
-- The report (GET /reports/ratings) reads a space's ratings by time.
CREATE INDEX IF NOT EXISTS ratings_space_created ON ratings (space_id, created_at);
-- Which schema (a digest of schema.sql and migrations/) was applied in full; a start that finds
-- its own here runs no DDL beside live servers (chat/db/schema.py).
CREATE TABLE IF NOT EXISTS schema_applied (
    fingerprint text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
