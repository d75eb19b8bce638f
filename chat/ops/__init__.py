"""The operator's command line: `chat inspect`, `chat tail`, `chat dead-letters`, `chat
projector` (chat/ops/commands.py registers them on the `chat` parser). Each opens its own Redis
and PostgreSQL connections, reads what an operator used to read with valkey-cli and psql, and
prints a table (or JSON with `--json`)."""
