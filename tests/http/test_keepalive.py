"""A request answered before its body was read leaves the connection usable for the next one."""

from __future__ import annotations

import trio

from tests.helpers.api import create_agent
from tests.helpers.chat import make_org

BODY = b'{"name": "x", "allowed_domains": ["a.example"]}'


async def _exchange(stream: trio.SocketStream, request: bytes) -> bytes:
    """Send one request and read one complete response (Content-Length framed)."""
    await stream.send_all(request)
    return await _response(stream)


async def _response(stream: trio.SocketStream) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some(65536)
        assert chunk, (data, "closed")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        chunk = await stream.receive_some(65536)
        assert chunk, "closed mid-body"
        rest += chunk
    return head.split(b"\r\n", 1)[0]


async def test_early_answers_keep_the_connection_usable(base_url: str) -> None:
    """401 (no token), 405 and 404 could answer before the body was read; the next request on
    the same keep-alive connection is still answered. Also with `Expect: 100-continue`, where
    the client sends its body only after the interim 100."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        host, port = base_url.removeprefix("http://").split(":")
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            for method, path, auth in [
                (b"POST", b"/api/v1/spaces", b""),
                (b"PATCH", b"/api/v1/auth/refresh", b""),
                (b"POST", b"/api/v1/nowhere", b""),
                (b"POST", b"/api/v1/spaces", f"Authorization: Bearer {org.token}\r\n".encode()),
            ]:
                for expect in (b"", b"Expect: 100-continue\r\n"):
                    head = (
                        method + b" " + path + b" HTTP/1.1\r\nHost: t\r\n"
                        b"Content-Type: application/json\r\n"
                        + auth
                        + expect
                        + b"Content-Length: "
                        + str(len(BODY)).encode()
                        + b"\r\n\r\n"
                    )
                    if expect:
                        await stream.send_all(head)
                        assert await _interim(stream) == b"HTTP/1.1 100 ", (method, path)
                        status = await _exchange(stream, BODY)
                    else:
                        status = await _exchange(stream, head + BODY)
                    assert status.split()[1] in (b"401", b"405", b"404", b"201"), status
                    # The next request on the same connection is answered.
                    status = await _exchange(stream, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                    assert status.split()[1] == b"200", status


async def _interim(stream: trio.SocketStream) -> bytes:
    """Read one interim (1xx) response, which has no body; its status line's first 13 bytes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some(1)
        assert chunk, (data, "closed")
        data += chunk
    return data[:13]


async def test_no_content_answers_keep_the_connection_usable(base_url: str) -> None:
    """A 204 (DELETE, logout) is sent whole and the connection serves the next request.

    quart's Response(status=204) would carry a body iterator that needs asyncio; under trio it
    broke the connection after the headers, so a keep-alive client hung (found by schemathesis).
    """
    with trio.fail_after(30):
        org = await make_org(base_url)
        agent = await create_agent(f"{base_url}/api/v1", org.token)
        host, port = base_url.removeprefix("http://").split(":")
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            request = (
                f"DELETE /api/v1/agents/{agent['id']} HTTP/1.1\r\nHost: t\r\n"
                f"Authorization: Bearer {org.token}\r\nContent-Length: 0\r\n\r\n"
            ).encode()
            await stream.send_all(request)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = await stream.receive_some(65536)
                assert chunk, (data, "closed")
                data += chunk
            assert data.split(b"\r\n", 1)[0].split()[1] == b"204", data
            status = await _exchange(stream, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert status.split()[1] == b"200", status
