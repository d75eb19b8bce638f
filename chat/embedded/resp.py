"""A minimal RESP2 client for setting up and probing local servers without an event loop or a
client library (chat/embedded/cluster.py): one connection per call, replies parsed whole."""

from __future__ import annotations

import socket
from typing import BinaryIO

Reply = str | int | None | list["Reply"]


class RespError(Exception):
    """The server answered an error (`-ERR ...`)."""


def call(host: str, port: int, password: str, *args: str, timeout: float = 2.0) -> Reply:
    """AUTH, then the command; its reply. Raises RespError for an error reply, OSError when the
    server cannot be reached."""
    payload = encode_command(["AUTH", password]) + encode_command(list(args))
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        with sock.makefile("rb") as replies:
            _read(replies)  # AUTH's +OK (an error raises)
            return _read(replies)


def encode_command(args: list[str]) -> bytes:
    """One command in RESP (an array of bulk strings), as a client sends it."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read(stream: BinaryIO) -> Reply:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("the connection closed mid-reply")
    kind, body = line[:1], line[1:-2].decode()
    if kind == b"+":
        return body
    if kind == b"-":
        raise RespError(body)
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        if size < 0:
            return None
        data = stream.read(size + 2)
        return data[:-2].decode()
    if kind == b"*":
        size = int(body)
        return None if size < 0 else [_read(stream) for _ in range(size)]
    raise OSError(f"unexpected reply {line[:40]!r}")
