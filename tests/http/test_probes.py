"""The operators' endpoints and the listener's limits (chat/http/probes.py, chat/http/listener.py):
/readyz tells when a background loop fails, without internals; /metrics is private; a slow body
is cut; a process serves at most max_connections at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from chat.config import Settings
from chat.embedded.valkey import ValkeyProcess, start_valkey, stop_valkey
from chat.http.app import HEADERS_DEADLINE_SECONDS
from chat.server import serve
from tests.helpers.chat import handshake_status, make_org, widget
from tests.helpers.db import table_locked
from tests.helpers.http import Reply, call

FAILING_SECONDS = 1.0  # readiness_failing_seconds in these tests
DB_DEADLINE = 0.5  # statement timeout and pool wait: a locked table fails the projector fast


async def start(settings: Settings, nursery: trio.Nursery, **change: Any) -> str:
    binds = await nursery.start(serve, settings.model_copy(update=change), "127.0.0.1", 0)
    return str(binds[0])


async def ready_becomes(base: str, status: int, timeout: float = 20) -> Reply:
    """Poll /readyz until it answers `status` (a balancer's probe does the same)."""
    with trio.fail_after(timeout):
        while True:
            reply = await call("GET", f"{base}/readyz")
            if reply.status == status:
                return reply
            await trio.sleep(0.2)


async def test_readyz_fails_while_the_projector_cannot_write(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """PostgreSQL answers its ping, but the projector's writes time out on a locked table: not
    ready, naming only the projector; ready again once it writes."""
    with trio.fail_after(90):
        base = await start(
            settings,
            nursery,
            readiness_failing_seconds=FAILING_SECONDS,
            db_statement_timeout_seconds=DB_DEADLINE,
            db_pool_wait_seconds=DB_DEADLINE,
        )
        org = await make_org(base)
        assert (await ready_becomes(base, 200)).body == {"status": "ok"}
        async with widget(org) as (visitor, _):
            async with table_locked(settings.database_url, "messages"):
                await visitor.say("while the projector is stuck")
                reply = await ready_becomes(base, 503)
                assert reply.body == {"status": "unavailable", "failing": ["projector"]}
                assert (await call("GET", f"{base}/healthz")).status == 200  # liveness apart
            assert (await ready_becomes(base, 200)).body == {"status": "ok"}


async def test_readyz_fails_while_the_reader_errors(
    settings: Settings, nursery: trio.Nursery, private_valkey: tuple[Path, ValkeyProcess]
) -> None:
    data, valkey = private_valkey
    with trio.fail_after(90):
        base = await start(
            settings,
            nursery,
            redis_url=valkey.url,
            readiness_failing_seconds=FAILING_SECONDS,
        )
        await ready_becomes(base, 200)
        await trio.to_thread.run_sync(stop_valkey, data)
        reply = await ready_becomes(base, 503)
        # The loops are named once each has failed past the threshold: each from its own
        # first failed read, so one may be named a retry's backoff before the other.
        with trio.fail_after(20):
            while not {"stream_reader", "control_follower"} <= set(reply.body["failing"]):
                await trio.sleep(0.2)  # a balancer's probe interval, as in ready_becomes
                reply = await ready_becomes(base, 503)
        assert set(reply.body["failing"]) <= {
            "redis",
            "stream_reader",
            "control_follower",
            "projector",
        }
        assert set(reply.body) == {"status", "failing"}  # no exception text, hosts or ports
        await trio.to_thread.run_sync(lambda: start_valkey(data, port=valkey.port))
        assert (await ready_becomes(base, 200, timeout=40)).body == {"status": "ok"}


async def test_metrics_are_private(settings: Settings, nursery: trio.Nursery) -> None:
    with trio.fail_after(60):
        base = await start(settings, nursery)
        assert (await call("GET", f"{base}/metrics")).status == 200  # loopback, not proxied
        proxied = await call("GET", f"{base}/metrics", headers={"X-Forwarded-For": "192.0.2.7"})
        assert proxied.status == 403 and proxied.body["error"]["code"] == "forbidden"
        base = await start(settings, nursery, metrics_token="s3cret-operator-token")
        assert (await call("GET", f"{base}/metrics")).status == 401
        assert (await call("GET", f"{base}/metrics", token="wrong")).status == 401
        reply = await call("GET", f"{base}/metrics", token="s3cret-operator-token")
        assert reply.status == 200 and "chat_loop_failing_seconds" in reply.body


async def _read_until_closed(stream: trio.SocketStream) -> bytes:
    data = b""
    while chunk := await stream.receive_some(65536):
        data += chunk
    return data


async def test_a_slow_body_is_cut_at_the_deadline(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """A body trickled a byte a second: 408 in the contract's shape, and the connection
    closes, at the deadline (not quart's 60 s)."""
    with trio.fail_after(60):
        base = await start(settings, nursery, request_body_timeout_seconds=1.0)
        host, port = base.removeprefix("http://").split(":")
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream, trio.open_nursery() as trickle:
            await stream.send_all(
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\n"
                b"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"
            )

            async def send_slowly() -> None:
                for _ in range(60):
                    await trio.sleep(1)
                    await stream.send_all(b" ")

            trickle.start_soon(send_slowly)
            with trio.fail_after(5):
                answer = await _read_until_closed(stream)
            trickle.cancel_scope.cancel()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), head
        assert b"connection: close" in head.lower()
        assert b'"code":"timeout"' in body


async def test_a_slow_handshake_is_cut(base_url: str) -> None:
    """A WebSocket handshake's head trickled a line at a time is closed by hypercorn's header
    deadline: nothing holds the connection open without a whole request."""
    with trio.fail_after(30):
        host, port = base_url.removeprefix("http://").split(":")
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            await stream.send_all(b"GET /ws/widget?key=wk_x HTTP/1.1\r\nHost: t\r\n")
            started = trio.current_time()
            with trio.fail_after(HEADERS_DEADLINE_SECONDS + 3):
                try:
                    for n in range(100):
                        await trio.sleep(1)
                        await stream.send_all(f"X-Slow-{n}: 1\r\n".encode())
                except trio.BrokenResourceError:
                    pass  # closed by the server
            assert trio.current_time() - started >= HEADERS_DEADLINE_SECONDS - 1


async def test_connections_over_the_cap_get_503(settings: Settings, nursery: trio.Nursery) -> None:
    with trio.fail_after(60):
        base = await start(settings, nursery, max_connections=2)
        org = await make_org(base)
        async with widget(org):
            async with widget(org):
                assert await handshake_status(org, org.space["widget_key"]) == 503
                busy = await call("GET", f"{base}/healthz")
                assert busy.status == 503 and busy.body["error"]["code"] == "unavailable"
            assert (await call("GET", f"{base}/healthz")).status == 200
            async with widget(org):
                pass  # a place was freed
