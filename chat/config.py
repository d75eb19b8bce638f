"""Settings, read once from the environment (and CLI flags) at start."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

# "replicated": acked once a replica holds the append too (WAIT 1), so a master that fails over
# to its replica loses no acked message (chat/streams/group_commit.py).
AckDurability = Literal["written", "fsync", "replicated"]
SmtpSecurity = Literal["none", "starttls", "tls"]


class Settings(BaseModel):
    """Everything a process needs to know; README's configuration table lists each field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @property
    def verifying_keys(self) -> tuple[str, ...]:
        """The keys a token may be signed with: secret_key first, then the previous ones."""
        previous = [k.strip() for k in self.previous_secret_keys.split(",") if k.strip()]
        return (self.secret_key, *previous)

    redis_url: str
    database_url: str
    secret_key: str = Field(min_length=32)  # HS256 wants a key of at least 256 bits
    # Keys that signed tokens before a rotation, comma-separated: tokens signed with them still
    # verify (a visitor's is re-signed with secret_key at its next connection) until they are
    # removed (README, "Rotating SECRET_KEY"; chat/auth/rotation.py).
    previous_secret_keys: str = ""
    key_prefix: str = "chat"
    ack_durability: AckDurability = "written"
    node_id: str = Field(default_factory=lambda: secrets.token_hex(4))
    db_pool_size: int = 10
    # Deadlines on storage (structures.md, "Deadlines and cancellation"): a healthy service meets
    # none of them; with PostgreSQL or Redis hung, a frame or request is answered `unavailable`
    # within a few seconds instead of waiting with it. PostgreSQL: each statement of a pooled
    # connection, lock waits included (the projector's batch of 500 entries takes tens of ms) ...
    db_statement_timeout_seconds: float = Field(default=5.0, gt=0)
    # ... and the wait for one of the pool's connections (and its worker thread).
    db_pool_wait_seconds: float = Field(default=5.0, gt=0)
    # Redis: each command's reply, and the wait for a pooled connection. It bounds the blocking
    # XREADs too, which wait up to 2 s by design, so it must leave them room: open_redis refuses
    # less than chat.streams.client.MIN_COMMAND_TIMEOUT_SECONDS.
    redis_command_timeout_seconds: float = Field(default=5.0, gt=0)
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 86400
    presence_ttl_seconds: int = 60
    presence_check_seconds: float = 5.0
    expiry_check_seconds: float = 30.0
    projector_batch: int = 500
    # Off: this process appends and serves but leaves projecting to other processes (the bench
    # turns it off to build a backlog, then measures the catch-up).
    projector_enabled: bool = True
    projector_claim_idle_seconds: float = 30.0
    # How often /metrics' projector lag is read from Valkey (chat/actors/lag_sampler.py); the
    # bench reads it every 50 ms while a backlog drains and sets this to match.
    projector_lag_sample_seconds: float = Field(default=1.0, gt=0)
    # Routing (structures.md, "Routing"). The router's safety-net pass over every space (routes
    # what waits, requeues what a gone agent held); events route at once, this bounds a miss.
    router_pass_seconds: float = 3.0
    # An assigned agent gone (no heartbeat) or not accepting this long has its unanswered
    # conversations put back in the queue: long enough for a reload or a network blip.
    router_requeue_grace_seconds: float = 60.0
    # A slot reserved this long without its assignment (a process died between the two steps)
    # is freed by the reconciler: the slot is lost at most this long.
    router_reservation_grace_seconds: float = 30.0
    router_enabled: bool = True
    # The built-in rules bot (structures.md, "Built-in bot"): false, this process answers as no
    # rules bot (another process does; any number may, each entry is answered by one).
    rules_bot_enabled: bool = True
    # An open widget learns that its group's agents stopped accepting (or left the group) within
    # this; agents coming and going are seen at once (structures.md "Group availability").
    visitor_groups_recheck_seconds: float = 15.0
    # Entries stay in Valkey this long once projected (a reconnect within it resumes from the
    # log), and a resent client_id within it is answered with its first ack (the dedupe window).
    resume_window_seconds: int = Field(default=3600, ge=1)
    # Every space's streams (quiet ones too) are trimmed to the resume window this often, and
    # deleted spaces' keys removed (chat/actors/retention.py). Active spaces are also trimmed by
    # the projector every 10 s; this bounds what a space nobody writes to keeps.
    retention_sweep_seconds: float = Field(default=60.0, gt=0)
    flood_frames_per_second: int = 20
    # A socket that sends nothing for this long is closed (1001): the widget pings every 25 s and
    # agents heartbeat at least every 25 s, so only dead peers (a silent NAT) stay this quiet.
    socket_idle_timeout_seconds: float = 75.0
    agent_auth_timeout_seconds: float = 5.0
    # Throttling (chat/http/throttle.py); a per-minute count of 0 turns that limit off. The login
    # limits allow a burst of their count, the API budget a burst of api_burst; then one attempt
    # passes every minute / count.
    # Per email and client address pair: guessing from one place is slow, yet an attacker
    # elsewhere cannot spend the budget of the account's owner.
    login_attempts_per_minute: int = Field(default=5, ge=0)
    # Per email from anywhere: a ceiling for guessing spread over many addresses.
    login_attempts_per_email_per_minute: int = Field(default=100, ge=0)
    login_attempts_per_address_per_minute: int = Field(default=30, ge=0)
    # Registrations per client address an hour (burst the same): each one that names a taken
    # email tells the prober so (registration cannot hide it without email verification).
    registrations_per_address_per_hour: int = Field(default=20, ge=0)
    # Second-factor codes (TOTP or recovery) per agent and per client address, every 5 minutes
    # (all at once, then one every 5 min / count); a right code gives its attempt back, so only
    # wrong ones count. Over it: 429. These fail closed: without Valkey no code is checked,
    # since six digits would not survive unlimited guessing (chat/http/code_throttle.py).
    two_factor_attempts_per_agent: int = Field(default=5, ge=1)
    two_factor_attempts_per_address: int = Field(default=10, ge=1)
    api_requests_per_minute: int = Field(default=600, ge=0)
    api_burst: int = Field(default=120, ge=1)
    # Probes and limits of the listener (chat/http/probes.py, structures.md "Process layout").
    # /readyz answers 503 once the stream reader, the control follower or the projector has been
    # failing this long: long enough to ride out a blip, short enough for a balancer to react.
    readiness_failing_seconds: float = Field(default=10.0, gt=0)
    # A staged drain (SIGUSR1 or `chat drain`, chat/actors/drain.py): /readyz fails at once,
    # then sockets stay open this long so the balancer notices and stops sending new ones...
    drain_balancer_seconds: float = Field(default=10.0, ge=0)
    # ... then they close (1012) one by one, spread over this long in a random order, so the
    # clients do not all reconnect to the other nodes in the same instant ...
    drain_spread_seconds: float = Field(default=10.0, ge=0)
    # ... and the process exits once none is left, or after this long whatever is left.
    drain_timeout_seconds: float = Field(default=60.0, gt=0)
    # /metrics needs `Authorization: Bearer <token>` when set; when empty it answers only to
    # loopback peers on requests no proxy forwarded.
    metrics_token: str = ""
    # Reverse proxies whose X-Forwarded-For is believed (chat/http/client_address.py):
    # comma-separated addresses or networks; empty: the TCP peer is the client.
    trusted_proxies: str = ""
    # Requests and WebSockets served at once by one process; beyond it, 503 at once.
    # (chat/http/listener.py: what counts, and the descriptors it bounds.)
    max_connections: int = Field(default=10_000, ge=1)
    # A REST request's whole body must arrive within this long, else 408 and the connection
    # closes (a slow client trickling a body would hold a connection and its buffer).
    request_body_timeout_seconds: float = Field(default=10.0, gt=0)
    # Budgets of anonymous widget clients per client address (IPv4, or an IPv6 /64), counted in
    # Redis so they hold across processes (structures.md, "Visitor budgets"); 0 turns one off.
    # Concurrent widget sockets from one address, over every space: generous, since an office
    # behind one NAT shares an address; the 51st is refused with HTTP 429 before the upgrade.
    visitor_sockets_per_address: int = Field(default=50, ge=0)
    # Open conversations one address may hold in one space, whatever its visitor ids: the
    # defence that keeps a space's `max_open_threads` from being filled from one address.
    visitor_open_threads_per_address: int = Field(default=3, ge=0)
    # Conversations one address may open in one space per hour (all at once, then one every
    # hour / count), so closing the squatters' threads does not just let them refill.
    visitor_threads_per_address_per_hour: int = Field(default=20, ge=0)
    # Messages from one address to one space across visitor ids (each session has its own
    # `visitor_messages_per_second` too): this many a second, up to the burst at once.
    visitor_messages_per_address_per_second: float = Field(default=5.0, ge=0)
    visitor_messages_per_address_burst: int = Field(default=20, ge=1)
    # A visitor is stored (Valkey hash, `visitor.updated`, PostgreSQL row) only once it sends,
    # identifies, or stays this long on a page; merely connecting stores nothing.
    visitor_linger_seconds: float = Field(default=30.0, ge=0)
    # A stored visitor's hash expires after this long without activity: short for one that only
    # lingered on a page, long for one that wrote or identified (refreshed on each).
    visitor_idle_ttl_seconds: int = Field(default=3600, ge=1)
    visitor_active_ttl_seconds: int = Field(default=30 * 86400, ge=1)
    # A bare WebSocket echo at /ws/echo, for the bench's ceiling figure; off in production.
    bench_echo: bool = False
    # The email channel (README "Email", structures.md "Email"). No SMTP host: the mailer does
    # not run and email conversations are only in the console. Secrets are SecretStr, so a
    # repr or a log of the settings shows them masked.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    # none: plain SMTP (a relay on localhost); starttls: upgrade on the submission port (587);
    # tls: implicit TLS (465).
    smtp_security: SmtpSecurity = "starttls"
    # The From address of every mail; the display name is the space's (and organization's).
    email_from: str = ""
    # The domain of the signed reply addresses (`reply+<thread>.<mac>@domain`) whose mail reaches
    # POST /api/v1/inbound/email; empty: the From address's domain.
    email_reply_domain: str = ""
    # Signs reply addresses; empty: derived from SECRET_KEY (so rotating that key voids the
    # reply addresses already sent).
    email_reply_secret: SecretStr = SecretStr("")
    # Bearer token of POST /api/v1/inbound/email; empty: the route answers 404.
    inbound_email_token: SecretStr = SecretStr("")
    # The service's public address, for the link to the conversation in the team's mail.
    public_url: str = ""
    # How often the mailer looks for due mail, and how a failed send is retried: after
    # retry * 2**(attempts - 1) seconds (with jitter, at most an hour), parked after max attempts.
    mailer_poll_seconds: float = Field(default=5.0, gt=0)
    smtp_retry_seconds: float = Field(default=30.0, gt=0)
    smtp_max_attempts: int = Field(default=8, ge=1)
    # Attachments (structures.md, "Attachments"). Local files under this folder (`chat serve`
    # sets `<data-dir>/attachments`; empty: a folder under the system's temporary one, per key
    # prefix, fit only for tests) unless a bucket is named: then an S3-compatible store.
    attachments_dir: str = ""
    s3_bucket: str = ""
    # Empty: AWS itself; MinIO, Ceph, R2 and the like need theirs.
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    # Empty: boto3's own lookup (AWS_* variables, instance roles).
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    # How long a signed link to an attachment works (chat/files/links.py).
    attachment_link_seconds: int = Field(default=300, ge=5, le=86400)

    # Webhooks (README "Webhooks", structures.md "Webhooks"). Off: this process neither ingests
    # nor sends (another process does; rows wait in PostgreSQL, entries in the log).
    webhooks_enabled: bool = True
    # One attempt's whole time (resolving, connecting, sending, the answer's head); past it the
    # attempt failed and is retried. Short, so a hanging receiver holds a slot only this long.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Retries: a random delay of up to base * 2**(attempts - 1) seconds (full jitter), at most
    # the max; an event not delivered this long after it was enqueued is parked as failed.
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0)
    webhook_retry_max_delay_seconds: float = Field(default=3600.0, gt=0)
    webhook_retry_for_seconds: float = Field(default=86400.0, gt=0)
    # Requests in flight from one process, and to one endpoint over all processes: a dead
    # endpoint holds at most its share, never the others' slots.
    # One endpoint takes at most per_endpoint / (its answer time + ~20 ms of bookkeeping)
    # events a second: 16 keep a 50 ms receiver above 200/s, and leave a dead one a quarter of a
    # process's slots.
    webhook_concurrency: int = Field(default=64, ge=1)
    webhook_per_endpoint: int = Field(default=16, ge=1)
    # How often a sender looks for due deliveries when nothing woke it (its own process's
    # ingest wakes it at once; another process's is seen within this).
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    # Events (bodies) kept for replay; the log keeps its own window besides.
    webhook_retention_days: int = Field(default=7, ge=1)
    # SSRF (chat/webhooks/destinations.py): private, loopback and link-local destinations are
    # refused unless allowed here, all of them or the comma-separated networks.
    webhook_allow_private: bool = False
    webhook_allowed_networks: str = ""

    @field_validator("trusted_proxies", "webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip())  # ValueError: pydantic reports the field
        return value

    @model_validator(mode="after")
    def _mail_from(self) -> Settings:
        if self.smtp_host and "@" not in self.email_from:
            raise ValueError("CHAT_EMAIL_FROM (an address) is required with CHAT_SMTP_HOST")
        return self


def env_settings(
    *,
    redis_url: str | None = None,
    database_url: str | None = None,
    data_dir: Path | None = None,
    **overrides: object,
) -> Settings:
    """Build settings from CHAT_* / REDIS_URL / DATABASE_URL, explicit values winning."""
    values: dict[str, object] = {}
    for name in Settings.model_fields.keys() - {"redis_url", "database_url", "secret_key"}:
        raw = os.environ.get(f"CHAT_{name.upper()}")
        if raw is not None:
            values[name] = raw
    values["redis_url"] = redis_url or os.environ.get("REDIS_URL", "")
    values["database_url"] = database_url or os.environ.get("DATABASE_URL", "")
    if "secret_key" not in values:
        # With external servers several hosts must share one key: it has to be given.
        values["secret_key"] = os.environ.get("SECRET_KEY") or _data_dir_secret(data_dir)
        previous = data_dir / PREVIOUS_SECRETS_FILE if data_dir is not None else None
        if "previous_secret_keys" not in values and previous is not None and previous.exists():
            # `chat rotate-secret` keeps the embedded setup's previous keys here.
            values["previous_secret_keys"] = ",".join(previous.read_text().split())
    if data_dir is not None and "attachments_dir" not in values:
        values["attachments_dir"] = str(data_dir / "attachments")
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings.model_validate(values)


# Beside the data folder's `secret_key`: the keys it had before `chat rotate-secret`, one a line.
PREVIOUS_SECRETS_FILE = "previous_secret_keys"


def _data_dir_secret(data_dir: Path | None) -> str:
    """A secret kept in the data folder, so tokens stay valid across restarts of `chat serve`."""
    if data_dir is None:
        raise SystemExit("SECRET_KEY is not set (required when REDIS_URL/DATABASE_URL are given)")
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
