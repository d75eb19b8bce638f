"""The app factory and the hypercorn configuration."""

from __future__ import annotations

import logging
from typing import Any

import trio
from hypercorn.config import Config
from quart import Response, request
from quart_trio import QuartTrio
from quart_trio.wrappers import TrioRequest

from chat.http.api.inbound import INBOUND_EMAIL_MAX_BYTES, INBOUND_EMAIL_PATH
from chat.http.api.routes import PREFIX, api_blueprint
from chat.http.bare_ws import Handler, WebSocketRoutes
from chat.http.docs import docs_blueprint
from chat.http.errors import error_response, install_error_handlers
from chat.http.pages import pages_blueprint
from chat.http.probes import probes_blueprint
from chat.http.request_ids import install_request_telemetry
from chat.http.throttle import install_request_budget
from chat.http.widget_assets import widget_assets_blueprint
from chat.http.widget_cors import install_widget_cors
from chat.services import Services
from chat.space_settings import MAX_ATTACHMENT_BYTES

ATTACHMENTS_PATH_END = "/attachments"

# Any WebSocket frame over this closes with 1009; any REST body over 64 KiB is 413. The contract's
# 16 KiB is a floor: a message of the 4,000 characters allowed must be answered (acked or
# `too_long`), never cut off, whatever the client's JSON escaping. The worst is 12 bytes a
# character (an astral character such as an emoji escaped as a surrogate pair, \ud83d\ude00;
# a control character takes 6, \u0001), so 48,000 bytes of content plus the largest frame's other
# fields (type, thread_id, a client_id of 64, punctuation: under 200) fit in 48 KiB. hypercorn
# counts a text frame in characters, a binary one in bytes: the escaped worst case is ASCII, the
# same either way. structures.md ("Frames and limits").
WEBSOCKET_MAX_MESSAGE_BYTES = 48 * 1024
REST_MAX_BODY_BYTES = 64 * 1024
# hypercorn closes a connection that has not sent a whole request head (request line and
# headers, a WebSocket handshake's included) within this long, and one that idles this long
# between requests. Bodies are ours to bound (`request_body_timeout_seconds`).
HEADERS_DEADLINE_SECONDS = 5


class _Request(TrioRequest):
    """quart fixes a request's body limit when it is made, from MAX_CONTENT_LENGTH: inbound mail
    (chat/http/api/inbound.py) gets its own larger one here, every other request keeps 64 KiB."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args[2] == PREFIX + INBOUND_EMAIL_PATH:  # (method, scheme, path, ...)
            kwargs["max_content_length"] = INBOUND_EMAIL_MAX_BYTES
        elif args[0] == "POST" and args[2].endswith(ATTACHMENTS_PATH_END):
            # Uploads (chat/http/api/attachments.py): the largest any space may allow; each
            # space's own limit is checked on the body.
            kwargs["max_content_length"] = MAX_ATTACHMENT_BYTES
        super().__init__(*args, **kwargs)


def create_app(services: Services) -> QuartTrio:
    app = QuartTrio(__name__, static_folder=None)  # chat/http/pages.py serves chat/static
    app.request_class = _Request
    app.config["MAX_CONTENT_LENGTH"] = REST_MAX_BODY_BYTES
    # quart's own body deadline (60 s) is replaced by ours, in read_body_first below.
    app.config["BODY_TIMEOUT"] = None
    app.config["JSON_SORT_KEYS"] = False
    install_error_handlers(app)
    body_seconds = services.settings.request_body_timeout_seconds
    install_request_telemetry(app, services.metrics)

    @app.before_request
    async def read_body_first() -> Response | None:
        """Read the request body (at most MAX_CONTENT_LENGTH) before anything can answer, within
        `request_body_timeout_seconds`; else answer 408 and close the connection.

        An answer sent while the body is still arriving (a 405 or 404 from routing, a 401, a
        429) left hypercorn's keep-alive connection unusable now and then: schemathesis saw such
        requests time out. Before-request hooks run before routing errors are raised, and this
        one is registered first. The deadline is on the whole body, so a client trickling a byte
        every few seconds cannot hold a connection (and its buffer) for long; hypercorn closes
        the connection after the 408 because the request was not read to its end.
        """
        with trio.move_on_after(body_seconds):
            await request.get_data(cache=True)
            return None
        reply = error_response(408, "timeout", "the request body did not arrive in time")
        reply.headers["Connection"] = "close"
        return reply

    install_request_budget(app, services)
    install_widget_cors(app, services)
    app.register_blueprint(api_blueprint(services))
    app.register_blueprint(pages_blueprint(services))
    app.register_blueprint(widget_assets_blueprint())
    app.register_blueprint(docs_blueprint())
    app.register_blueprint(probes_blueprint(services))

    return app


def asgi_app(services: Services, routes: dict[str, Handler]) -> WebSocketRoutes:
    """The whole service as one ASGI app: the WebSocket `routes` served bare
    (chat/http/bare_ws.py) in front of the quart-trio app that serves everything else. The
    front door (chat/http/front_door.py) serves most of their sockets before they get here."""
    return WebSocketRoutes(create_app(services), routes)


def hypercorn_config(host: str, port: int, *, fd: int | None = None) -> Config:
    config = Config()
    config.bind = [f"fd://{fd}"] if fd is not None else [f"{host}:{port}"]
    config.websocket_max_message_size = WEBSOCKET_MAX_MESSAGE_BYTES
    # No hypercorn pings: its ping task outlives a closed socket by up to the interval (holding
    # the connection, and a shutdown for its graceful_timeout). Sessions close sockets that stay
    # silent for socket_idle_timeout_seconds instead (chat/actors/socket.py _read_frames).
    config.websocket_ping_interval = None
    config.accesslog = None
    # hypercorn's own records go through the root logger's handler (CHAT_LOG_FORMAT), not a
    # handler of its own in another format.
    config.errorlog = logging.getLogger("hypercorn.error")
    # hypercorn's default accept backlog (100) overflows when thousands of widgets reconnect at
    # once after a restart, and each overflowed SYN waits ~1 s for its retry. The same as the
    # --workers parent's listen(2048); the kernel caps it at net.core.somaxconn.
    config.backlog = 2048
    config.graceful_timeout = 5
    config.keep_alive_timeout = HEADERS_DEADLINE_SECONDS
    return config
