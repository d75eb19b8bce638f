"""A hung PostgreSQL or Redis: handlers answer `unavailable` within the deadline, other sessions
keep working, and the same calls succeed once storage answers again (structures.md, "Deadlines
and cancellation")."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
import trio

from chat.config import Settings
from chat.embedded.valkey import ValkeyProcess
from chat.server import serve
from chat.streams.client import MIN_COMMAND_TIMEOUT_SECONDS
from tests.helpers.api import add_member
from tests.helpers.chat import agent_socket, make_org, widget
from tests.helpers.db import table_locked
from tests.helpers.http import call

T = TypeVar("T")
logger = logging.getLogger(__name__)

DB_DEADLINE = 0.5  # the statement timeout and the pool wait in these tests
REDIS_DEADLINE = MIN_COMMAND_TIMEOUT_SECONDS
SLACK = 2.0  # what an answer may take beyond the deadline (a loaded 2-core CI machine)


async def within(bound: float, what: str, action: Callable[[], Awaitable[T]]) -> T:
    """Run `action` under an absolute bound; log how long it took (the report's figure)."""
    started = trio.current_time()
    with trio.fail_after(bound):
        result = await action()
    logger.warning("%s answered in %.3f s", what, trio.current_time() - started)
    return result


async def start_server(settings: Settings, nursery: trio.Nursery) -> str:
    binds = await nursery.start(serve, settings, "127.0.0.1", 0)
    return str(binds[0])


async def test_a_locked_table_answers_unavailable_and_spares_the_rest(
    settings: Settings, nursery: trio.Nursery
) -> None:
    settings = settings.model_copy(
        update={"db_statement_timeout_seconds": DB_DEADLINE, "db_pool_wait_seconds": DB_DEADLINE}
    )
    with trio.fail_after(60):
        base = await start_server(settings, nursery)
        org = await make_org(base)
        peer = await add_member(f"{base}/api/v1", org.token, "Peer")
        me = f"{base}/api/v1/auth/me"
        async with (
            agent_socket(base, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (visitor, _),
        ):
            thread_id = (await visitor.say("hello"))["thread_id"]
            transfer = {"type": "transfer", "thread_id": thread_id, "agent_id": peer.agent["id"]}
            async with table_locked(settings.database_url, "agents"):
                # Listing agents needs `agents`: 503 within the deadline.
                reply = await within(
                    DB_DEADLINE + SLACK,
                    "REST with agents locked",
                    lambda: call("GET", f"{base}/api/v1/agents", token=org.token),
                )
                assert reply.status == 503 and reply.body["error"]["code"] == "unavailable"
                # The caller's own check times out too, and falls back to the sign-in copy in
                # Valkey (chat/http/sign_in_copy.py): the agent still gets its own record.
                mine = await within(
                    DB_DEADLINE + SLACK,
                    "/auth/me with agents locked",
                    lambda: call("GET", me, token=org.token),
                )
                assert mine.status == 200 and mine.body["id"] == org.agent["id"]
                # So does an agent's transfer (it looks the target agent up).
                await agent.send(transfer)
                error = await within(
                    DB_DEADLINE + SLACK,
                    "a transfer frame with agents locked",
                    lambda: agent.expect("error", ref="transfer"),
                )
                assert error["code"] == "unavailable" and error["thread_id"] == thread_id
                # A visitor's message needs only the log: acked, and heard live by the agent.
                said = await within(SLACK, "a visitor's message", lambda: visitor.say("still here"))
                await agent.expect("message", client_id=said["client_id"])
            # The lock released: the same calls succeed.
            assert (await call("GET", me, token=org.token)).status == 200
            await agent.send(transfer)
            ack = await agent.expect("ack", ref="transfer")
            assert ack["thread"]["assigned_agent_id"] == peer.agent["id"]


@contextmanager
def stopped(valkey: ValkeyProcess) -> Iterator[None]:
    """The server hangs: its sockets stay open, nothing answers (SIGSTOP, not a kill)."""
    os.kill(valkey.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(valkey.pid, signal.SIGCONT)


async def test_a_stopped_redis_answers_unavailable_then_recovers(
    settings: Settings, nursery: trio.Nursery, private_valkey: tuple[Path, ValkeyProcess]
) -> None:
    _, valkey = private_valkey
    settings = settings.model_copy(
        update={"redis_url": valkey.url, "redis_command_timeout_seconds": REDIS_DEADLINE}
    )
    with trio.fail_after(90):
        base = await start_server(settings, nursery)
        org = await make_org(base)
        async with (
            agent_socket(base, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (visitor, _),
        ):
            thread_id = (await visitor.say("hello"))["thread_id"]
            message = {"type": "message", "client_id": "during", "content": "are you there?"}
            claim = {"type": "claim", "thread_id": thread_id}
            with stopped(valkey):
                await visitor.send(message)
                error = await within(
                    REDIS_DEADLINE + SLACK,
                    "a visitor's message with Redis stopped",
                    lambda: visitor.expect("error", client_id="during"),
                )
                assert error["code"] == "unavailable"
                await agent.send(claim)
                error = await within(
                    REDIS_DEADLINE + SLACK,
                    "a claim frame with Redis stopped",
                    lambda: agent.expect("error", ref="claim"),
                )
                assert error["code"] == "unavailable"
                # The server itself stays responsive, and says it is not ready.
                health = await within(SLACK, "/healthz", lambda: call("GET", f"{base}/healthz"))
                assert health.status == 200
                ready = await within(
                    REDIS_DEADLINE + SLACK, "/readyz", lambda: call("GET", f"{base}/readyz")
                )
                assert ready.status == 503
            # Redis answers again: the same frames succeed (the message is stored once, whether
            # or not the timed-out attempt ran when the server resumed).
            await visitor.send(message)
            ack = await visitor.expect("ack", client_id="during")
            await agent.send(claim)
            claimed = await agent.expect("ack", ref="claim")
            assert claimed["thread"]["assigned_agent_id"] == org.agent["id"]
            assert (await visitor.say("again", client_id="during"))["id"] == ack["id"]


async def test_appends_queued_behind_a_hung_batch_are_answered_within_one_deadline(
    private_valkey: tuple[Path, ValkeyProcess],
) -> None:
    """The fault suite saw ~9.5 s with Valkey stopped: only the batch in flight had a deadline,
    and a caller queued behind it waited for that batch, then up to a deadline for its own."""
    from chat.errors import UnavailableError
    from chat.streams.client import open_redis
    from chat.streams.group_commit import BATCH_TIMEOUT_SECONDS
    from chat.streams.log import StreamLog

    _, valkey = private_valkey
    answered: list[float] = []

    async def post(log: StreamLog, n: int) -> None:
        start = trio.current_time()
        with pytest.raises((UnavailableError, TimeoutError)):
            await log.do_post_message(
                "space",
                sender_type="visitor",
                sender_id=f"v{n}",
                sender_name="V",
                content="hi",
                client_id=f"c{n}",
                max_open_threads=100,
            )
        answered.append(trio.current_time() - start)

    async with open_redis(valkey.url, command_timeout=30.0) as redis:
        log = StreamLog(redis, "hung", "written")
        await log.ping()
        with trio.fail_after(60), stopped(valkey):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(post, log, 0)
                # The others arrive while the first one's batch is in flight (and hangs): an
                # arrival time of the scenario, not a wait for an outcome.
                await trio.sleep(1.0)
                for n in range(1, 3):
                    nursery.start_soon(post, log, n)
    assert len(answered) == 3
    assert max(answered) <= BATCH_TIMEOUT_SECONDS + SLACK, answered
