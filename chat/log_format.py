"""How the process logs: plain text (the default) or one JSON object a line
(`CHAT_LOG_FORMAT=json`), and the ids that tie a record to its request or socket.

`request_id` and `session_id` are context variables: the REST hook sets the first for each
request, the WebSocket hook the second for each socket (chat/http/request_ids.py). trio gives
every task a copy of its parent's context, so the tasks a request or a session starts log the
same ids. `ContextFilter` copies them onto every record, whichever library logged it.

The stdlib's logging and a 30-line Formatter with orjson (already here for the wire), not a
formatter library: the fields are few and fixed, and the ids come from our own context variables.
Records never carry secrets: tokens, passwords and keys are never arguments of a log call
(tests/test_logs.py greps a DEBUG run for them).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

import orjson

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
session_id: ContextVar[str | None] = ContextVar("session_id", default=None)


class ContextFilter(logging.Filter):
    """Puts the current request and session ids on every record (None outside of one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.session_id = session_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (RFC 3339, UTC), level, logger, message, the ids when set,
    and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name in ("request_id", "session_id"):
            if (value := getattr(record, name, None)) is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str, log_format: str) -> None:
    """The root logger's one handler (stderr) in `log_format` ("text" or "json")."""
    if log_format not in ("text", "json"):
        raise SystemExit(f"CHAT_LOG_FORMAT must be text or json, not {log_format!r}")
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    json = log_format == "json"
    handler.setFormatter(JsonFormatter() if json else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
