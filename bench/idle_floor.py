"""The idle floor: what N idle sockets pinging like the widget cost a bare trio server, with no
WebSocket stack of ours and no session, so the `idle` scenario's CPU can be read against it.

    python -m bench.idle_floor [--sockets 10000] [--ping-seconds 25] [--framing ws|raw]
                               [--window 20]

Two processes on this machine: a trio server answering each ping (with wsproto's framing, or
raw bytes), and a client holding the sockets, each pinging every `--ping-seconds` from a random
phase (the widget's heartbeat, as bench/scenarios/idle.py). Prints the server's CPU over a
window once every socket is connected and settled (its user + system time from /proc).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import time

import trio
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import TextMessage

PING = '{"type":"ping"}'
PONG = '{"type":"pong"}'
CONNECTS_PER_STEP = 100
SETTLE_SECONDS = 5.0
WINDOW_SECONDS = 20.0


async def _answer(stream: trio.SocketStream, framing: str) -> None:
    """One socket: each ping read is answered with a pong written at once."""
    fd = stream.socket.fileno()
    ws = Connection(ConnectionType.SERVER) if framing == "ws" else None
    while data := await stream.receive_some(65536):
        if ws is None:
            os.write(fd, PONG.encode())
            continue
        ws.receive_data(data)
        for _ in ws.events():
            os.write(fd, ws.send(TextMessage(data=PONG)))


async def _serve(port: int, framing: str) -> None:
    async def handle(stream: trio.SocketStream) -> None:
        await _answer(stream, framing)

    await trio.serve_tcp(handle, port, host="127.0.0.1", backlog=1024)


async def _ping(port: int, ping_seconds: float, framing: str) -> None:
    frame = Connection(ConnectionType.CLIENT).send(TextMessage(data=PING))
    payload = frame if framing == "ws" else PING.encode()
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await trio.sleep(random.uniform(0, ping_seconds))  # noqa: S311 - a phase, not a secret
    while True:
        await stream.send_all(payload)
        await stream.receive_some(65536)
        await trio.sleep(ping_seconds)


async def _clients(port: int, sockets: int, ping_seconds: float, framing: str) -> None:
    async with trio.open_nursery() as nursery:
        for n in range(sockets):
            nursery.start_soon(_ping, port, ping_seconds, framing)
            if n % CONNECTS_PER_STEP == CONNECTS_PER_STEP - 1:
                await trio.sleep(0.01)  # within the server's accept backlog


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _established(port: int) -> int:
    """The server's established connections (state 01 in /proc/net/tcp, local port `port`)."""
    local = f":{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table]
    return sum(1 for row in rows[1:] if row[1].endswith(local) and row[3] == "01")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--ping-seconds", type=float, default=25.0)
    parser.add_argument("--framing", choices=("ws", "raw"), default="ws")
    parser.add_argument("--window", type=float, default=WINDOW_SECONDS, help="seconds measured")
    parser.add_argument("--role", choices=("server", "client"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "server":
        trio.run(_serve, args.port, args.framing)
        return
    if args.role == "client":
        trio.run(_clients, args.port, args.sockets, args.ping_seconds, args.framing)
        return
    port = _free_port()
    own = [sys.executable, "-m", "bench.idle_floor", "--port", str(port), "--framing", args.framing]
    server = subprocess.Popen([*own, "--role", "server"])  # noqa: S603 - our own module
    client = None
    try:
        time.sleep(1.0)
        client = subprocess.Popen(  # noqa: S603 - our own module
            [*own, "--role", "client", "--sockets", str(args.sockets)]
            + ["--ping-seconds", str(args.ping_seconds)]
        )
        deadline = time.monotonic() + 300
        while _established(port) < args.sockets and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(SETTLE_SECONDS)
        before = _cpu_seconds(server.pid)
        time.sleep(args.window)
        used = _cpu_seconds(server.pid) - before
        pings = args.sockets / args.ping_seconds * args.window
        print(
            f"{args.sockets} sockets, a ping every {args.ping_seconds:g} s each, {args.framing}"
            f" framing: server CPU {100 * used / args.window:.1f}% of a core,"
            f" {1e6 * used / pings:.0f} us per ping"
        )
    finally:
        for process in (client, server):
            if process is not None:
                process.kill()
                process.wait()


if __name__ == "__main__":
    main()
