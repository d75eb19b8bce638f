"""Request and session ids for the logs, and the REST series of /metrics.

Every HTTP request gets an id: the client's `X-Request-Id` when it is a short token of safe
characters (a proxy's or a load balancer's), else a new one; it is answered in the same header
and set in `chat.log_format.request_id`, so every record logged while the request runs (and in
the tasks it starts) carries it. Every WebSocket gets a `session_id` the same way, for the whole
life of the socket. The ids are the only things taken from the request: a path's query (where
the sockets' tokens travel) is never logged.

The REST series: `chat_http_request_seconds{method, route}` by route template (bounded: the
app's rules, `unmatched` for the rest), and error answers by their contract code.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from quart import Response, g, request, websocket
from quart_trio import QuartTrio

from chat.log_format import request_id, session_id
from chat.metrics.exposition import Metrics

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
# What a client may name its request: enough for a UUID or a proxy's trace id, nothing that
# could forge a log line or a label.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
ERROR_CODE = re.compile(r"[a-z_]{1,40}")


def new_id() -> str:
    return secrets.token_hex(8)


def client_or_new_id(given: str | None) -> str:
    """The client's id when it is safe to log, else a new one."""
    if given and CLIENT_REQUEST_ID.fullmatch(given):
        return given
    return new_id()


def install_request_telemetry(app: QuartTrio, metrics: Metrics) -> None:
    """Register the hooks; first among the before-request hooks, so the whole request is timed
    and every log record of it has the id."""
    series = metrics.series
    rate_limited = series.rate_limited.labels("rest")

    @app.before_request
    async def begin_request() -> None:
        g.started = time.perf_counter()
        g.request_id = client_or_new_id(request.headers.get(REQUEST_ID_HEADER))
        request_id.set(g.request_id)

    @app.after_request
    async def end_request(response: Response) -> Response:
        # A request refused before `begin_request` ran (none today) has no id yet.
        rid = g.get("request_id") or new_id()
        response.headers[REQUEST_ID_HEADER] = rid
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        method = request.method if request.method in METHODS else "other"
        series.http_seconds.labels(method, route).observe(seconds)
        status = response.status_code
        if status >= 400:
            series.errors.labels("rest", await _error_code(response)).inc()
            if status == 429:
                rate_limited.inc()
        logger.debug("%s %s answered %d in %.1f ms", method, route, status, seconds * 1000)
        return response

    @app.before_websocket
    async def begin_socket() -> None:
        request_id.set(client_or_new_id(websocket.headers.get(REQUEST_ID_HEADER)))
        session_id.set(new_id())


async def _error_code(response: Response) -> str:
    """The contract code of an error answer (`{"error": {"code"}}`); "error" for another body."""
    body = await response.get_json(silent=True) if response.is_json else None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and ERROR_CODE.fullmatch(code) else "error"
