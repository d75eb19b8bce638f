"""Every series /metrics exports, built once per process into one registry.

Labels are bounded: a session kind (visitor, agent), a frame or error code from the contract, a
close code, a route template, a loop's name. Nothing per visitor, thread or space. Gauges carry
how a `--workers` scrape merges the workers' values (`multiprocess_mode`: `livesum` for what
each worker holds, `livemax` or `livemostrecent` for a figure every worker sees the same).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:
    from prometheus_client.metrics import Counter as CounterChild
    from prometheus_client.metrics import Histogram as HistogramChild

# From a millisecond to ten seconds: an ack or a delivery in a healthy process takes a few ms, a
# fsync'd ack or a GC pause tens, a stalled store seconds (the store deadlines are 5 s).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# The projector lingers 50 ms per small batch, and a backlog drains for seconds or minutes.
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
SESSION_KINDS = ("visitor", "agent")
# Subscriptions of the stream reader, by route kind (chat/streams/reader.py route_kind).
ROUTE_KINDS = ("space", "presence", "thread", "visitor", "queue")
LOOPS = ("stream_reader", "control_follower", "projector", "webhook_ingest")


class Series:
    """The process's series, in `registry` (a fresh one unless given)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        # Sockets.
        self.ack_seconds = Histogram(
            "chat_ack_seconds",
            "A message frame's receipt to its ack queued for the socket (durably in the log).",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "chat_delivery_seconds",
            "A log entry's append (its id's time) to its frame written to a socket.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.messages = Counter(
            "chat_messages", "Messages acked to a socket, by sender kind.", ["kind"], registry=r
        )
        self.frames_received = Counter(
            "chat_frames_received", "WebSocket frames received.", ["kind"], registry=r
        )
        self.frames_sent = Counter(
            "chat_frames_sent", "WebSocket frames written.", ["kind"], registry=r
        )
        self.errors = Counter(
            "chat_errors",
            "Error answers by contract code: error frames (where=socket), REST 4xx/5xx (rest).",
            ["where", "code"],
            registry=r,
        )
        self.rate_limited = Counter(
            "chat_rate_limit_refusals",
            "Refusals for going too fast: rate_limited frames (socket), 429 answers (rest).",
            ["where"],
            registry=r,
        )
        self.closes = Counter(
            "chat_socket_closes",
            "Sockets this process closed, by close code (4008 flooding, 1013 fell behind, ...).",
            ["kind", "code"],
            registry=r,
        )
        self.sockets = Gauge(
            "chat_sockets", "Open sessions.", ["kind"], multiprocess_mode="livesum", registry=r
        )
        self.session_overflows = Counter(
            "chat_session_overflows",
            "Sessions cut off (close 1013) because they fell behind their feed.",
            ["kind"],
            registry=r,
        )
        self.subscription_overflows = Counter(
            "chat_subscription_overflows",
            "Subscriptions that fell behind the stream reader, dropped and re-subscribed.",
            ["route"],
            registry=r,
        )
        # REST.
        self.http_seconds = Histogram(
            "chat_http_request_seconds",
            "REST requests by route template, from the request's head to the response.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        # The projector.
        self.projector_batch_seconds = Histogram(
            "chat_projector_batch_seconds",
            "A projector batch: its PostgreSQL transaction and its XACK.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.projector_entry_lag_seconds = Histogram(
            "chat_projector_entry_lag_seconds",
            "An entry's append (its id's time) to its commit in PostgreSQL.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.projector_rows = Counter(
            "chat_projector_rows", "Messages written to PostgreSQL.", registry=r
        )
        self.dead_letters = Counter(
            "chat_projector_dead_letters",
            "Entries the projector set aside in a space's dead stream (undecodable or refused).",
            registry=r,
        )
        self.lag_entries = Gauge(
            "chat_projector_lag_entries",
            "Entries of every space not yet in PostgreSQL (sampled, every second by default).",
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.lag_seconds = Gauge(
            "chat_projector_lag_seconds",
            "Age of the oldest entry not yet in PostgreSQL (sampled, every second by default).",
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.projector_spaces = Gauge(
            "chat_projector_spaces",
            "Space streams the projector follows, as of the last lag sample.",
            multiprocess_mode="livemax",
            registry=r,
        )
        # Valkey's memory against its limit, per server (chat/streams/memory.py): with
        # noeviction a full Valkey refuses appends, hence the alert on used / max.
        self.valkey_used_memory = Gauge(
            "chat_valkey_used_memory_bytes",
            "Valkey's used_memory, per server (each master of a cluster); sampled every 15 s.",
            ["node"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        self.valkey_maxmemory = Gauge(
            "chat_valkey_maxmemory_bytes",
            "Valkey's maxmemory, per server (0: no limit); sampled every 15 s.",
            ["node"],
            multiprocess_mode="livemostrecent",
            registry=r,
        )
        # The process.
        self.thread_actors = Gauge(
            "chat_thread_actors", "Live thread actors.", multiprocess_mode="livesum", registry=r
        )
        self.floors = Gauge(
            "chat_floors",
            "Live floor views (one per organization watched here), and the sockets watching them.",
            ["what"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.followed_spaces = Gauge(
            "chat_followed_spaces",
            "Space streams the stream reader follows for this process's subscribers.",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.db_pool = Gauge(
            "chat_db_pool_connections",
            "PostgreSQL connections: in use, the pool's size, calls waiting for one.",
            ["state"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.loop_failing_seconds = Gauge(
            "chat_loop_failing_seconds",
            "How long a background loop has been failing (0: fine).",
            ["loop"],
            multiprocess_mode="livemax",
            registry=r,
        )
        self.breaker_open = Gauge(
            "chat_db_breaker_open",
            "1 while PostgreSQL calls fail at once (chat/db/breaker.py).",
            multiprocess_mode="livemax",
            registry=r,
        )
        self.widget_keys_stale = Counter(
            "chat_widget_keys_stale",
            "Handshakes served a cached space, the database away.",
            registry=r,
        )
        # Webhooks (chat/actors/webhook_ingest.py, webhook_sender.py).
        self.webhook_entries = Counter(
            "chat_webhook_entries", "Space-stream entries the webhook ingest has read.", registry=r
        )
        self.webhook_enqueued = Counter(
            "chat_webhook_enqueued", "Deliveries the webhook ingest enqueued.", registry=r
        )
        self.webhook_delivered = Counter(
            "chat_webhook_delivered", "Webhook deliveries answered 2xx.", registry=r
        )
        self.webhook_failed_attempts = Counter(
            "chat_webhook_failed_attempts",
            "Webhook attempts that failed (retried or parked).",
            registry=r,
        )
        self.webhook_parked = Counter(
            "chat_webhook_parked",
            "Webhook deliveries parked as failed after the retry window.",
            registry=r,
        )
        self.webhook_in_flight = Gauge(
            "chat_webhook_in_flight",
            "Webhook requests in flight.",
            multiprocess_mode="livesum",
            registry=r,
        )
        self._export_known_labels()

    def _export_known_labels(self) -> None:
        """Every label value a drop or an error can take that is known in advance, at 0 from
        the start, so that rate() and alerts see the series before the first event."""
        for kind in SESSION_KINDS:
            for series in (self.messages, self.frames_received, self.frames_sent):
                series.labels(kind)
            self.sockets.labels(kind)
            self.session_overflows.labels(kind)
            self.ack_seconds.labels(kind)
            self.delivery_seconds.labels(kind)
        for route in ROUTE_KINDS:
            self.subscription_overflows.labels(route)
        for where in ("socket", "rest"):
            self.rate_limited.labels(where)
        for loop in LOOPS:
            self.loop_failing_seconds.labels(loop)
        for state in ("in_use", "size", "waiting"):
            self.db_pool.labels(state)


class SessionMeter:
    """One session kind's series, bound once. Every method is one or two child updates."""

    def __init__(self, series: Series, kind: str) -> None:
        self.kind = kind
        self._series = series
        self.frames_received: CounterChild = series.frames_received.labels(kind)
        self.frames_sent: CounterChild = series.frames_sent.labels(kind)
        self._messages: CounterChild = series.messages.labels(kind)
        self._ack: HistogramChild = series.ack_seconds.labels(kind)
        self._delivery: HistogramChild = series.delivery_seconds.labels(kind)
        self.sockets = series.sockets.labels(kind)
        self._rate_limited: CounterChild = series.rate_limited.labels("socket")
        self._errors: dict[str, CounterChild] = {}
        self._closes: dict[int, CounterChild] = {}

    @classmethod
    def unregistered(cls, kind: str) -> SessionMeter:
        """A meter nobody scrapes (a session run outside a service, in a unit test)."""
        return cls(Series(), kind)

    def acked(self, received: float) -> None:
        """A message frame received at `received` (time.perf_counter()) has its ack queued."""
        self._messages.inc()
        self._ack.observe(time.perf_counter() - received)

    def delivered(self, appended: float) -> None:
        """A frame of an entry appended at `appended` (epoch seconds, the Valkey host's clock)
        was written. Clocks of different hosts may disagree: never below 0."""
        self._delivery.observe(max(0.0, time.time() - appended))

    def refused(self, code: str) -> None:
        """An error frame with this contract code was queued."""
        child = self._errors.get(code)
        if child is None:
            child = self._errors[code] = self._series.errors.labels("socket", code)
        child.inc()
        if code == "rate_limited":
            self._rate_limited.inc()

    def closed(self, code: int) -> None:
        """This process closes a socket with `code`."""
        child = self._closes.get(code)
        if child is None:
            child = self._closes[code] = self._series.closes.labels(self.kind, str(code))
        child.inc()


class ProjectorMeter:
    """The projector's series, bound once."""

    def __init__(self, series: Series) -> None:
        self._batch = series.projector_batch_seconds
        self._entry_lag = series.projector_entry_lag_seconds
        self.lag_entries = series.lag_entries
        self.lag_seconds = series.lag_seconds
        self.spaces = series.projector_spaces
        self.valkey_used_memory = series.valkey_used_memory
        self.valkey_maxmemory = series.valkey_maxmemory

    @classmethod
    def unregistered(cls) -> ProjectorMeter:
        return cls(Series())

    def batch_done(self, entry_ids: list[str], started: float) -> None:
        """A batch of these entries is committed and acked; it began at `started`
        (time.perf_counter()). One lag observation per entry: its id's time to now."""
        now = time.perf_counter()
        self._batch.observe(now - started)
        now_ms = time.time() * 1000
        observe = self._entry_lag.observe
        for entry_id in entry_ids:
            observe(max(0.0, now_ms - int(entry_id.partition("-")[0])) / 1000)
