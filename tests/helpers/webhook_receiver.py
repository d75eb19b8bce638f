"""A real HTTP receiver of webhooks for the tests: a stdlib server on a thread, with its own
signature check (hmac, written from the README's description, not from chat's code), dedupe by
(space_id, id), and a script of misbehaviour per path: fail with a status, redirect, or hang past
the sender's timeout."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trio

# A signature whose timestamp is further than this from the receiver's clock is refused.
TOLERANCE_SECONDS = 300


def verify(secret: str, header: str, body: bytes, now: float) -> bool:
    """The receiver's check: `t=<unix>,v1=<hex>`; HMAC-SHA256 over "<t>.<body>"."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
    fresh = abs(now - int(parts["t"])) <= TOLERANCE_SECONDS
    return fresh and hmac.compare_digest(expected.hexdigest(), parts["v1"])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    event: dict[str, Any]
    raw: bytes

    @property
    def key(self) -> tuple[str, str]:
        return (self.event["space_id"], self.event["id"])


@dataclass
class Receiver:
    port: int = 0
    # Per path: the signing secret, and the actions for the next requests ("ok" when empty):
    # an int answers that status, "redirect" a 302 to /elsewhere, "hang" holds the request past
    # any timeout and then drops it.
    secrets: dict[str, str] = field(default_factory=dict)
    script: dict[str, list[Any]] = field(default_factory=dict)
    # Every request that was accepted (2xx), in arrival order, and every request at all.
    accepted: list[Received] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    bad_signatures: int = 0
    hang_seconds: float = 5.0
    # Set from the test: how long each accepted request takes (to catch a sender mid-batch).
    answer_delay: float = 0.0
    changed: threading.Condition = field(default_factory=threading.Condition)
    released: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def unique(self, path: str) -> dict[tuple[str, str], Received]:
        """Accepted events of `path`, deduped by (space_id, id) as a receiver would."""
        with self.changed:
            found: dict[tuple[str, str], Received] = {}
            for r in self.accepted:
                if r.path == path:
                    found.setdefault(r.key, r)
            return found

    def accepted_at(self, path: str) -> list[Received]:
        with self.changed:
            return [r for r in self.accepted if r.path == path]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        """Until `predicate()` holds (checked on every request); fails after `timeout`."""

        def wait() -> bool:
            with self.changed:
                return self.changed.wait_for(predicate, timeout)

        ok = await trio.to_thread.run_sync(wait, abandon_on_cancel=True)
        assert ok, f"receiver: condition not met within {timeout}s ({len(self.accepted)} accepted)"

    def wait_for_sync(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        """wait_for, for the synchronous browser tests."""
        with self.changed:
            ok = self.changed.wait_for(predicate, timeout)
        assert ok, f"receiver: condition not met within {timeout}s ({len(self.accepted)} accepted)"

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        path = handler.path
        with self.changed:
            self.requests.append(path)
            script = self.script.get(path, [])
            action = script.pop(0) if script else "ok"
            self.changed.notify_all()
        if action == "hang":
            self.released.wait(self.hang_seconds)
            handler.close_connection = True
            return
        if action == "redirect":
            handler.send_response(302)
            handler.send_header("Location", self.url("/elsewhere"))
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if isinstance(action, int):
            handler.send_response(action)
            handler.send_header("Content-Length", "4")
            handler.end_headers()
            handler.wfile.write(b"nope")
            return
        secret = self.secrets.get(path, "")
        signature = handler.headers.get("Chat-Signature", "")
        if not signature or not verify(secret, signature, body, time.time()):
            with self.changed:
                self.bad_signatures += 1
                self.changed.notify_all()
            handler.send_response(400)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if self.answer_delay:
            time.sleep(self.answer_delay)
        event = json.loads(body)
        with self.changed:
            self.accepted.append(Received(path, dict(handler.headers), event, body))
            self.changed.notify_all()
        handler.send_response(204)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


@contextmanager
def run_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            receiver._handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a sender killed or timed out mid-request resets its connection: expected

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
