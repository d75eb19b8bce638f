"""Our WebSockets decline permessage-deflate, which every browser offers
(chat/http/ws_handshake.py): a client offering it, as Chrome does, is accepted with no
extension, and its frames come uncompressed. Without the decline, hypercorn accepts it and each
socket keeps a 262 KB zlib compressor from its first frame on."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.extensions import PerMessageDeflate

from tests.helpers.chat import ORIGIN, make_org

WITHIN = 10.0


async def _first_frame(base: str, target: str) -> tuple[AcceptConnection, dict[str, Any]]:
    """Open a WebSocket offering permessage-deflate, as a browser does; the server's answer to
    the offer and the first frame it sends."""
    where = urlsplit(base)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    client = WSConnection(ConnectionType.CLIENT)
    accepted: AcceptConnection | None = None
    with trio.fail_after(WITHIN):
        stream = await trio.open_tcp_stream(host, port)
        async with stream:
            offer = Request(
                host=f"{host}:{port}",
                target=target,
                extensions=[PerMessageDeflate()],
                extra_headers=[(b"origin", ORIGIN.encode())],
            )
            await stream.send_all(client.send(offer))
            while True:
                data = await stream.receive_some(65536)
                assert data, "the server closed the connection"
                client.receive_data(data)
                for event in client.events():
                    if isinstance(event, AcceptConnection):
                        accepted = event
                    elif isinstance(event, TextMessage):
                        assert accepted is not None
                        frame: dict[str, Any] = orjson.loads(event.data)
                        return accepted, frame


async def test_a_widget_offering_deflate_gets_no_extension(base_url: str) -> None:
    org = await make_org(base_url)
    accepted, frame = await _first_frame(base_url, f"/ws/widget?key={org.space['widget_key']}")
    assert accepted.extensions == []
    assert frame["type"] == "welcome"  # and the frames are plain text


async def test_an_agent_offering_deflate_gets_no_extension(base_url: str) -> None:
    org = await make_org(base_url)
    accepted, frame = await _first_frame(base_url, f"/ws/agent?token={org.token}")
    assert accepted.extensions == []
    assert frame["type"] == "welcome"
