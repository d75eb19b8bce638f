"""The webhook figures of /metrics (chat/http/metrics.py): this process's ingest and sender."""

from __future__ import annotations

import trio

from chat.services import Services


def webhook_metrics(services: Services) -> list[str]:
    ingest, sender = services.webhook_ingest, services.webhook_sender
    failing = 0.0 if ingest.failing_since is None else trio.current_time() - ingest.failing_since
    return [
        "# HELP chat_webhook_entries_total Space-stream entries the webhook ingest has read.",
        "# TYPE chat_webhook_entries_total counter",
        f"chat_webhook_entries_total {ingest.entries}",
        "# HELP chat_webhook_enqueued_total Deliveries the webhook ingest enqueued.",
        "# TYPE chat_webhook_enqueued_total counter",
        f"chat_webhook_enqueued_total {ingest.enqueued}",
        "# HELP chat_webhook_delivered_total Deliveries answered 2xx.",
        "# TYPE chat_webhook_delivered_total counter",
        f"chat_webhook_delivered_total {sender.delivered}",
        "# HELP chat_webhook_failed_attempts_total Attempts that failed (retried or parked).",
        "# TYPE chat_webhook_failed_attempts_total counter",
        f"chat_webhook_failed_attempts_total {sender.failed_attempts}",
        "# HELP chat_webhook_parked_total Deliveries parked as failed after the retry window.",
        "# TYPE chat_webhook_parked_total counter",
        f"chat_webhook_parked_total {sender.parked}",
        "# TYPE chat_webhook_in_flight gauge",
        f"chat_webhook_in_flight {sender.in_flight}",
        "# HELP chat_webhook_ingest_failing_seconds How long the ingest has failed (0: fine).",
        "# TYPE chat_webhook_ingest_failing_seconds gauge",
        f"chat_webhook_ingest_failing_seconds {failing:.3f}",
    ]
