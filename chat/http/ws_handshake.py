"""Our WebSockets negotiate no extension: permessage-deflate is declined (issue 19, step 5).

Browsers offer permessage-deflate on every WebSocket (Chrome: `permessage-deflate;
client_max_window_bits`), and hypercorn 0.18 accepts it unconditionally: its handshake builds
`[PerMessageDeflate()]` with no setting to turn it off (pgjones/hypercorn#307, open). wsproto
then keeps a zlib compressor per socket from its first frame on (context takeover): 262 KB per
socket, measured with tracemalloc after one welcome frame, against the ~43 KB the rest of an idle
widget socket costs, and a compress per frame sent and an inflate per frame received on the
event loop. A chat frame is a few hundred bytes of JSON, which deflate barely shrinks. The
`ws` library behind Socket.IO turned it off by default for the same reasons (websockets/ws#1107),
as did engine.io 4.

hypercorn's WebSocket stream makes its `Handshake` from its module's global of that name, so the
one seam without forking it is that name: `decline_extensions()` points it at a subclass whose
`accept` forgets what the client offered. tests/http/test_ws_extensions.py fails if a hypercorn
upgrade moves that seam (a client offering deflate gets it again).
"""

from __future__ import annotations

from collections.abc import Iterable

from hypercorn.protocol import ws_stream
from wsproto.connection import Connection


class PlainHandshake(ws_stream.Handshake):
    """hypercorn's handshake, answering every offered extension with none."""

    def accept(
        self, subprotocol: str | None, additional_headers: Iterable[tuple[bytes, bytes]]
    ) -> tuple[int, list[tuple[bytes, bytes]], Connection]:
        self.extensions = None  # what the client offered, forgotten: no Sec-WebSocket-Extensions
        return super().accept(subprotocol, additional_headers)


def decline_extensions() -> None:
    """Every WebSocket hypercorn accepts in this process from now on negotiates no extension."""
    setattr(ws_stream, "Handshake", PlainHandshake)  # noqa: B010 - a module global, see above
