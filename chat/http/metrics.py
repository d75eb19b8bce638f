"""Prometheus text for the few figures operators watch: projector lag and live sessions."""

from __future__ import annotations

from chat.services import Services
from chat.streams import groups


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
    ]
    return "\n".join(lines) + "\n"
