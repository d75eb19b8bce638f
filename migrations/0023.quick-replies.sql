-- Quick replies (issue 20 item 4, the built-in bot; structures.md "Quick replies"): the buttons an
-- agent's or bot's message offers the visitor, kept with the message. Idempotent, because
-- schema.sql (the current shape) creates the same on a new database and runs first.
-- depends: 0022.bots
ALTER TABLE messages ADD COLUMN IF NOT EXISTS quick_replies jsonb;
