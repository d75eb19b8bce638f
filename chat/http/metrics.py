"""Prometheus text for the few figures operators watch: projector lag, live actors, the
deliberate drops (sessions cut off, subscriptions that fell behind), and how the background loops
and PostgreSQL are doing. Private: it names every space (chat/http/probes.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import trio

from chat.http.webhook_metrics import webhook_metrics
from chat.services import Services
from chat.streams import groups

# Every label value a drop counter can take, exported at 0 before the first drop so that
# rate() and alerts see the series from the start.
SESSION_KINDS = ("visitor",)
ROUTE_KINDS = ("space", "presence", "thread", "visitor", "queue")


async def metrics_text(services: Services) -> str:
    lines = [
        "# HELP chat_projector_lag_entries Entries of a space not yet in PostgreSQL.",
        "# TYPE chat_projector_lag_entries gauge",
    ]
    seconds = [
        "# HELP chat_projector_lag_seconds Age of the oldest entry not yet in PostgreSQL.",
        "# TYPE chat_projector_lag_seconds gauge",
    ]
    for space_id in services.projector.spaces:
        lag = await groups.lag(services.stream_log, space_id)
        lines.append(f'chat_projector_lag_entries{{space="{space_id}"}} {lag.entries}')
        seconds.append(f'chat_projector_lag_seconds{{space="{space_id}"}} {lag.seconds:.3f}')
    lines += seconds
    lines += [
        "# TYPE chat_projector_rows_total counter",
        f"chat_projector_rows_total {services.projector.rows_projected}",
        "# TYPE chat_thread_actors gauge",
        f"chat_thread_actors {len(services.threads)}",
        "# TYPE chat_followed_spaces gauge",
        f"chat_followed_spaces {len(services.router.positions)}",
        "# HELP chat_loop_failing_seconds How long a background loop has been failing (0: fine).",
        "# TYPE chat_loop_failing_seconds gauge",
        *_failing_seconds(services),
        "# HELP chat_db_breaker_open 1 while PostgreSQL calls fail at once (chat/db/breaker.py).",
        "# TYPE chat_db_breaker_open gauge",
        f"chat_db_breaker_open {int(services.db.breaker.is_open)}",
        "# HELP chat_widget_keys_stale_total Handshakes served a cached space, the database away.",
        "# TYPE chat_widget_keys_stale_total counter",
        f"chat_widget_keys_stale_total {services.spaces.stale_served}",
    ]
    lines += _counter(
        "chat_session_overflows_total",
        "Sessions cut off (close 1013) because they fell behind their feed.",
        "kind",
        services.session_stats.overflows,
        SESSION_KINDS,
    )
    lines += _counter(
        "chat_subscription_overflows_total",
        "Subscriptions that fell behind the stream reader, dropped and re-subscribed.",
        "route",
        services.router.overflows,
        ROUTE_KINDS,
    )
    lines += webhook_metrics(services)
    return "\n".join(lines) + "\n"


def _failing_seconds(services: Services) -> list[str]:
    now = trio.current_time()
    since = {
        "stream_reader": services.reader_health.failing_since,
        "control_follower": services.control_health.failing_since,
        "projector": services.projector.failing_since,
    }
    return [
        f'chat_loop_failing_seconds{{loop="{name}"}} {0 if t is None else now - t:.3f}'
        for name, t in since.items()
    ]


def _counter(
    name: str, help_text: str, label: str, counts: Counter[str], known: Iterable[str]
) -> list[str]:
    values = sorted(set(known) | set(counts))
    return [
        f"# HELP {name} {help_text}",
        f"# TYPE {name} counter",
        *(f'{name}{{{label}="{value}"}} {counts[value]}' for value in values),
    ]
