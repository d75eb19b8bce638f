"""PostgreSQL access: psycopg's sync API on worker threads, bounded by the pool size.

Every function here takes a connection and runs inside one `Database.run` (chat/db/pool.py),
so each of its statements is bounded by the statement timeout, and a caller's cancellation
cancels the statement running and rolls the transaction back. A write that meets either may or
may not be stored (it is, if it committed first); writes that must survive are idempotent
(the projector's, keyed by stream entry id). See structures.md, "Deadlines and cancellation".
"""
