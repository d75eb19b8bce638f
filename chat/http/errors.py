"""Translating failures into the contract's error shape."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from pydantic import ValidationError
from quart import Quart, Response, jsonify
from werkzeug.exceptions import HTTPException

from chat.errors import ChatError, FieldInvalidError, RateLimitedError
from chat.streams.errors import StreamLogError

logger = logging.getLogger(__name__)

# RFC 9110: a 429 may say when to retry; the contract says every one of ours does. When the
# limiter gave no figure, a client should still back off at least this long.
DEFAULT_RETRY_AFTER_SECONDS = 1
TOO_MANY_REQUESTS = 429

_HTTP_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    return response


def install_error_handlers(app: Quart) -> None:
    @app.errorhandler(ChatError)
    async def _chat_error(err: ChatError) -> Response:
        details: Any = err.details or None
        if isinstance(err, FieldInvalidError):  # the shape of a ValidationError's details
            details = [{"field": err.field, "message": err.message}]
        response = error_response(err.status, err.code, err.message, details)
        if isinstance(err, RateLimitedError):
            _retry_after(response, err.retry_after)
        return response

    @app.errorhandler(ValidationError)
    async def _invalid(err: ValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in err.errors(include_url=False, include_input=False)
        ]
        return error_response(422, "invalid", "the request is invalid; see details", details)

    @app.errorhandler(HTTPException)
    async def _http(err: HTTPException) -> Response:
        status = err.code or 500
        response = error_response(status, _HTTP_CODES.get(status, "error"), err.description or "")
        if status == TOO_MANY_REQUESTS:
            _retry_after(response, None)
        return response

    @app.errorhandler(StreamLogError)
    @app.errorhandler(psycopg.OperationalError)  # statement timeouts and pool waits too
    @app.errorhandler(TimeoutError)  # what coredis raises past its command timeout
    async def _unavailable(err: Exception) -> Response:
        logger.warning("storage unavailable: %r", err)
        return error_response(503, "unavailable", "storage is unavailable; retry shortly")

    @app.errorhandler(Exception)
    async def _unexpected(err: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "internal", "internal error")


def _retry_after(response: Response, seconds: int | None) -> None:
    """Retry-After in whole seconds, at least 1 (0 would invite an immediate retry storm)."""
    response.headers["Retry-After"] = str(max(DEFAULT_RETRY_AFTER_SECONDS, seconds or 0))
