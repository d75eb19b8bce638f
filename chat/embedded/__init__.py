"""Embedded Valkey and PostgreSQL, so a new user needs nothing installed."""

from chat.embedded.postgres import PostgresProcess, start_postgres, stop_postgres
from chat.embedded.services import (
    EmbeddedServiceError,
    EmbeddedServices,
    read_services,
    services_down,
    services_up,
)
from chat.embedded.valkey import ValkeyProcess, start_valkey, stop_valkey

__all__ = [
    "EmbeddedServiceError",
    "EmbeddedServices",
    "PostgresProcess",
    "ValkeyProcess",
    "read_services",
    "services_down",
    "services_up",
    "start_postgres",
    "start_valkey",
    "stop_postgres",
    "stop_valkey",
]
