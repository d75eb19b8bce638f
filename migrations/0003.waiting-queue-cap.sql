-- The waiting queue (issue 11): `max_open_threads` now caps the conversations waiting for an
-- agent, not every open one, and its default went from 10 to 100. A space created before stored
-- the old default (10) in its settings, which cannot be told apart from a choice: raise it to
-- the new default so no space keeps turning visitors away at 10 waiting. An admin who wants 10
-- sets it again (the console's space page). Idempotent: a second run finds no 10 it made.
-- depends: 0002.groups
UPDATE spaces SET settings = jsonb_set(settings, '{max_open_threads}', '100')
    WHERE settings->'max_open_threads' = '10'::jsonb;
