"""GET /metrics's figures: the series the work updates as it happens (chat/metrics/), and the
few gauges read off this process's state just before the text is written (thread actors,
followed spaces, the pool, the loops). No store is asked: a scrape costs the same with 10 or
10,000 spaces. Private, like every operator endpoint (chat/http/probes.py).

The drop counters the actors keep as plain counts (`SessionStats.overflows`,
`StreamRouter.overflows`, `ProjectorState.dead_lettered`, ...) are added to their series by
difference at each refresh: their hot paths stay as they were. Under `--workers` every worker
refreshes every REFRESH_SECONDS (`run_metrics_refresher`), so the merged text is at most that
old for the workers that did not answer.
"""

from __future__ import annotations

import trio

from chat.metrics.exposition import multiprocess_dir
from chat.services import Services

# How stale another worker's gauges may be in a merged scrape.
REFRESH_SECONDS = 1.0


def _add(services: Services, name: str, label: str, value: int) -> None:
    """Add to a counter what a counted figure grew by since the last refresh."""
    seen = services.metrics.synced
    delta = value - seen[(name, label)]
    if delta > 0:
        counter = getattr(services.metrics.series, name)
        (counter.labels(label) if label else counter).inc(delta)
        seen[(name, label)] = value


def refresh(services: Services) -> None:
    """Bring the gauges and the counted figures of this process up to date."""
    series = services.metrics.series
    series.thread_actors.set(len(services.threads))
    series.floors.labels("floors").set(len(services.floors))
    series.floors.labels("viewers").set(services.floors.viewers())
    series.followed_spaces.set(len(services.router.positions))
    use = services.db.use()
    series.db_pool.labels("in_use").set(use.borrowed_tokens)
    series.db_pool.labels("size").set(use.total_tokens)
    series.db_pool.labels("waiting").set(use.tasks_waiting)
    series.breaker_open.set(int(services.db.breaker.is_open))
    now = trio.current_time()
    since = {
        "stream_reader": services.reader_health.failing_since,
        "control_follower": services.control_health.failing_since,
        "projector": services.projector.failing_since,
        "webhook_ingest": services.webhook_ingest.failing_since,
    }
    for loop, t in since.items():
        series.loop_failing_seconds.labels(loop).set(0 if t is None else now - t)
    _add(services, "projector_rows", "", services.projector.rows_projected)
    _add(services, "dead_letters", "", services.projector.dead_lettered)
    _add(services, "widget_keys_stale", "", services.spaces.stale_served)
    for kind, count in services.session_stats.overflows.items():
        _add(services, "session_overflows", kind, count)
    for route, count in services.router.overflows.items():
        _add(services, "subscription_overflows", route, count)
    ingest, sender = services.webhook_ingest, services.webhook_sender
    _add(services, "webhook_entries", "", ingest.entries)
    _add(services, "webhook_enqueued", "", ingest.enqueued)
    _add(services, "webhook_delivered", "", sender.delivered)
    _add(services, "webhook_failed_attempts", "", sender.failed_attempts)
    _add(services, "webhook_parked", "", sender.parked)
    series.webhook_in_flight.set(sender.in_flight)


def metrics_text(services: Services) -> bytes:
    """The Prometheus text: this process's figures, or every worker's under `--workers`."""
    refresh(services)
    return services.metrics.render()


async def run_metrics_refresher(
    services: Services,
    stop: trio.Event,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Under `--workers`, refresh every REFRESH_SECONDS so that a scrape another worker answers
    sees this one's figures, until `stop` is set (the server is shutting down); alone, return at
    once (each scrape refreshes)."""
    task_status.started()
    if multiprocess_dir() is None:
        return
    while not stop.is_set():
        refresh(services)
        with trio.move_on_after(REFRESH_SECONDS):
            await stop.wait()
