"""Translating failures into the contract's error shape."""

from __future__ import annotations

import logging
from typing import Any

import coredis.exceptions
import psycopg
from pydantic import ValidationError
from quart import Quart, Response, jsonify
from werkzeug.exceptions import HTTPException

from chat.errors import ChatError

log = logging.getLogger(__name__)

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
        return error_response(err.status, err.code, err.message, err.details or None)

    @app.errorhandler(ValidationError)
    async def _invalid(err: ValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in err.errors(include_url=False, include_input=False)
        ]
        return error_response(422, "invalid", "the request body is invalid", details)

    @app.errorhandler(HTTPException)
    async def _http(err: HTTPException) -> Response:
        status = err.code or 500
        return error_response(status, _HTTP_CODES.get(status, "error"), err.description or "")

    @app.errorhandler(coredis.exceptions.RedisError)
    @app.errorhandler(psycopg.OperationalError)
    async def _unavailable(err: Exception) -> Response:
        log.warning("storage unavailable: %r", err)
        return error_response(503, "unavailable", "storage is unavailable; retry shortly")

    @app.errorhandler(Exception)
    async def _unexpected(err: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error")
