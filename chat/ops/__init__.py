"""The operator's command line (README, "Operating"), registered on the `chat` parser by
chat/ops/commands.py: `inspect`, `tail`, `dead-letters` and `projector` read (and, where an
operator names it, clean) what valkey-cli and psql used to show, each with its own short-lived
connections; `drain` starts a process's staged drain; `backup` and `restore` copy Valkey and
PostgreSQL; `rotate-secret` rotates SECRET_KEY with a grace period. Tables by default, JSON with
`--json`; an unknown id is one line on stderr and exit code 2."""
