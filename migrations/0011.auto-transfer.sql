-- Auto-transfer (issue 12, LiveChat's): a group may hand a conversation its router-assigned
-- agent has not answered within this many seconds to another eligible member (null: off).
-- Read by the router through the organization's directory. Idempotent.
-- depends: 0010.soft-delete
ALTER TABLE groups ADD COLUMN IF NOT EXISTS auto_transfer_seconds integer
    CHECK (auto_transfer_seconds BETWEEN 1 AND 3600);
