"""The session skeleton (chat/actors/socket.py run_session), driven in process: a fake Socket and
a small session implementing the skeleton's Session protocol, time under trio's autojump clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import coredis.exceptions
import orjson
import pytest
import trio
import trio.testing

from chat.actors.frame_outbox import Outbox
from chat.actors.revocation import Watch
from chat.actors.socket import OUTBOX_SIZE, run_session
from chat.config import Settings
from chat.errors import (
    CLOSE_FLOODING,
    CLOSE_GOING_AWAY,
    CLOSE_TRY_AGAIN,
    ChatError,
    InvalidError,
    RateLimitedError,
)
from chat.json_types import Json
from chat.protocol.outbound import error_frame
from tests.helpers.fake_socket import FakeSocket

IDLE_SECONDS = 30.0
FLOOD_LIMIT = 5
# Whole test deadlines: virtual seconds under the autojump clock, so they only bound a hang.
DEADLINE = 300


@dataclass(eq=False)
class EchoSession:
    """A session of one frame kind, `{"type":"say","client_id","fail"?}`: acked, or failing with
    a ChatError, a storage error, or Closing, as the frame asks."""

    outbox: Outbox
    gate: trio.Event = field(default_factory=trio.Event)
    watch: Watch = field(default_factory=lambda: Watch("echo"))
    left: bool = False

    @property
    def who(self) -> str:
        return "echo"

    def parse(self, data: str | bytes) -> dict[str, Any]:
        try:
            frame = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise InvalidError("not json") from exc
        if not isinstance(frame, dict) or frame.get("type") != "say":
            raise InvalidError("invalid frame: type")
        return frame

    async def join(self, nursery: trio.Nursery) -> None:
        await self.gate.wait()
        await self.outbox.send({"type": "welcome"})

    async def handle(self, frame: dict[str, Any]) -> None:
        match frame.get("fail"):
            case "chat":
                raise RateLimitedError()
            case "storage":
                raise coredis.exceptions.ConnectionError("Valkey is away")
        await self.outbox.send({"type": "ack", "client_id": frame["client_id"]})

    def error_reply(self, err: ChatError, frame: dict[str, Any] | None) -> Json:
        return error_frame(err, frame.get("client_id") if frame else None)

    async def leave(self) -> None:
        self.left = True


@asynccontextmanager
async def session_on(peer: FakeSocket, *, open_gate: bool = True) -> AsyncIterator[EchoSession]:
    """An EchoSession served by run_session on `peer`; leaving the block cancels it, as the
    server cancels a handler whose client disconnected."""
    session = EchoSession(Outbox(OUTBOX_SIZE))
    if open_gate:
        session.gate.set()
    settings = Settings(
        redis_url="redis://unused",
        database_url="postgresql://unused",
        secret_key="s" * 32,
        flood_frames_per_second=FLOOD_LIMIT,
        socket_idle_timeout_seconds=IDLE_SECONDS,
    )

    async def serve() -> None:
        try:
            await run_session(peer, session, settings)
        finally:
            peer.session_over()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        yield session
        nursery.cancel_scope.cancel()


async def _ends_with(peer: FakeSocket, session: EchoSession) -> int | None:
    """Read what the session still sends until it ends; the close code it sent, if any."""
    while True:
        try:
            await peer.next()
        except trio.EndOfChannel:
            break
    assert session.left
    return peer.closed_with


async def test_the_welcome_is_first_and_no_frame_is_read_before_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(DEADLINE):
        peer = FakeSocket()
        await peer.say({"type": "say", "client_id": "early"})
        async with session_on(peer, open_gate=False) as session:
            await trio.testing.wait_all_tasks_blocked()
            assert peer.nothing_sent()
            session.gate.set()
            assert await peer.next() == {"type": "welcome"}
            assert await peer.next() == {"type": "ack", "client_id": "early"}


async def test_errors_are_answered_and_the_session_goes_on(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(DEADLINE):
        peer = FakeSocket()
        async with session_on(peer):
            assert (await peer.next())["type"] == "welcome"
            await peer.say({"type": "say", "client_id": "c1", "fail": "chat"})
            assert await peer.next() == {
                "type": "error",
                "code": "rate_limited",
                "message": RateLimitedError().message,
                "client_id": "c1",
            }
            await peer.say({"type": "say", "client_id": "c2", "fail": "storage"})
            unavailable = await peer.next()
            assert (unavailable["code"], unavailable["client_id"]) == ("unavailable", "c2")
            await peer.say("not json")
            invalid = await peer.next()
            assert invalid["code"] == "invalid" and "client_id" not in invalid
            await peer.say({"type": "say", "client_id": "c3"})
            assert await peer.next() == {"type": "ack", "client_id": "c3"}


async def test_silence_closes_with_1001_after_the_idle_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(DEADLINE):
        peer = FakeSocket()
        async with session_on(peer) as session:
            assert (await peer.next())["type"] == "welcome"
            await trio.sleep(IDLE_SECONDS - 1)
            await peer.say({"type": "say", "client_id": "alive"})  # a frame resets the wait
            assert (await peer.next())["client_id"] == "alive"
            started = trio.current_time()
            assert await _ends_with(peer, session) == CLOSE_GOING_AWAY
            assert trio.current_time() - started == pytest.approx(IDLE_SECONDS)


async def test_flooding_closes_with_4008(autojump_clock: trio.testing.MockClock) -> None:
    with trio.fail_after(DEADLINE):
        peer = FakeSocket()
        async with session_on(peer) as session:
            assert (await peer.next())["type"] == "welcome"
            for n in range(FLOOD_LIMIT):
                await peer.say({"type": "say", "client_id": f"c{n}"})
                assert (await peer.next())["client_id"] == f"c{n}"
            await trio.sleep(1)  # a new one-second window: the limit again
            for n in range(FLOOD_LIMIT + 1):
                await peer.say({"type": "say", "client_id": f"burst{n}"})
            assert await _ends_with(peer, session) == CLOSE_FLOODING


async def test_closing_raised_by_a_session_task_closes_with_its_code(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(DEADLINE):
        peer = FakeSocket()
        async with session_on(peer) as session:
            assert (await peer.next())["type"] == "welcome"
            session.watch.revoke(CLOSE_TRY_AGAIN, "fell behind")
            assert await _ends_with(peer, session) == CLOSE_TRY_AGAIN


async def test_a_cancelled_session_still_leaves(autojump_clock: trio.testing.MockClock) -> None:
    with trio.fail_after(DEADLINE):
        peer = FakeSocket()
        async with session_on(peer) as session:
            assert (await peer.next())["type"] == "welcome"
        assert session.left and peer.closed_with is None


async def test_a_frame_queued_after_the_session_closed_the_outbox_ends_at_the_cancellation() -> (
    None
):
    """The outbox is closed as the session ends; a task of the session still running its step
    that queues a frame (no schedule point on send's fast path) ends with the session's
    cancellation, not a BrokenResourceError raised into the session's nursery (which the
    listener logged as a handler's error, and once took down)."""
    outbox = Outbox(OUTBOX_SIZE)
    outbox.close()
    with trio.CancelScope() as session:
        session.cancel()
        await outbox.send({"type": "ack"})
    assert session.cancelled_caught
    with pytest.raises(trio.BrokenResourceError):  # outside a cancelled session: still an error
        await outbox.send({"type": "ack"})
