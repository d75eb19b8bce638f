"""Webhooks (structures.md, "Webhooks"): which log entries an endpoint may be sent and as what
JSON, how a delivery is signed, and where a request may go. Plain data and the outbound HTTP
client; the actors (chat/actors/webhook_*.py) and the tables (chat/db/webhook_queries.py) use it."""
