"""Revocations close live sockets on every process: a deleted agent and an ended sign-in (4001),
a deleted space and a rotated widget key (4004), and the handshake race guard
(chat/actors/revocation.py, chat/streams/control.py).

Revocations are published as another process would: its own Redis client and ControlLog, after
the change is committed in PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
import trio
from trio_websocket import ConnectionClosed

from chat.config import Settings
from chat.embedded.valkey import ValkeyProcess, start_valkey, stop_valkey
from chat.errors import CLOSE_KEY_REVOKED, CLOSE_UNAUTHORIZED, NotFoundError, UnauthorizedError
from chat.http.ws import check_sign_in, check_widget_key
from chat.services import open_services
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import (
    Org,
    agent_socket,
    assert_alive,
    close_code,
    handshake_status,
    make_org,
    widget,
)
from tests.helpers.db import POLL_SECONDS, peer_agent_token, query
from tests.helpers.http import call
from tests.helpers.revocation import (
    CountedCheck,
    assert_handshake_refused_after_racing_revocation,
    other_process,
)


async def sql(settings: Settings, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Commit a change in PostgreSQL, as REST does before it appends the revocation."""
    return await trio.to_thread.run_sync(query, settings.database_url, statement, params)


def session_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


async def sign_in(base: str, email: str) -> str:
    reply = await call(
        "POST", f"{base}/api/v1/auth/login", {"email": email, "password": "correct horse"}
    )
    assert reply.status == 200, reply.body
    return str(reply.body["access_token"])


async def test_deleted_agent_sockets_close_with_4001_on_every_process(
    base_url: str, settings: Settings, server_processes: list[ServerProcess], tmp_path: Path
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        peer_token = await peer_agent_token(base_url, org, 1)
        other = ServerProcess(settings, free_port())
        server_processes.append(other)
        await other.start("other", tmp_path)
        async with (
            agent_socket(base_url, org.token) as (here, _),
            agent_socket(other.base, org.token) as (there, _),
            agent_socket(base_url, peer_token) as (peer, _),
            other_process(settings) as control,
        ):
            # A stray entry (added by hand, say) is skipped; the follower goes on.
            await control.redis.xadd(control.key, {"t": "agent.deleted", "d": '{"who": 1}'})
            deleted = await sql(
                settings,
                "UPDATE agents SET deleted_at = now() WHERE id = %s RETURNING id",
                org.agent["id"],
            )
            assert len(deleted) == 1
            await control.do_revoke_agent(org.agent["id"])
            assert await close_code(here) == CLOSE_UNAUTHORIZED
            assert await close_code(there) == CLOSE_UNAUTHORIZED
            await assert_alive(peer)  # another agent of the organization keeps its socket
        async with agent_socket(base_url, peer_token) as (peer_again, _):
            await assert_alive(peer_again)
        with pytest.raises(ConnectionClosed) as refused:
            async with agent_socket(base_url, org.token):
                pass
        assert refused.value.reason is not None
        assert refused.value.reason.code == CLOSE_UNAUTHORIZED


async def test_ending_a_sign_in_closes_only_its_sockets(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        agent_id, email = org.agent["id"], org.agent["email"]
        second, third = await sign_in(base_url, email), await sign_in(base_url, email)
        first_sid, second_sid = session_of(org.token), session_of(second)
        assert len({first_sid, second_sid, session_of(third)}) == 3
        async with (
            agent_socket(base_url, org.token) as (first_socket, _),
            agent_socket(base_url, second) as (second_socket, _),
            agent_socket(base_url, third) as (third_socket, _),
            other_process(settings) as control,
        ):
            # Logout of the first sign-in.
            await sql(
                settings,
                "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = %s RETURNING id",
                first_sid,
            )
            await control.do_end_sign_ins(agent_id, [first_sid])
            assert await close_code(first_socket) == CLOSE_UNAUTHORIZED
            await assert_alive(second_socket)
            await assert_alive(third_socket)
            # A password change made with the second sign-in ends every other one.
            await sql(
                settings,
                "UPDATE refresh_tokens SET revoked_at = now()"
                " WHERE agent_id = %s AND family_id <> %s RETURNING id",
                agent_id,
                second_sid,
            )
            await control.do_end_all_sign_ins(agent_id, keep_session_id=second_sid)
            assert await close_code(third_socket) == CLOSE_UNAUTHORIZED
            await assert_alive(second_socket)


async def _second_space(org: Org) -> Org:
    """The same organization, seen through another space of its own (same allowed origin)."""
    reply = await call(
        "POST",
        f"{org.base}/api/v1/spaces",
        {"name": "Blog", "allowed_domains": ["shop.example.com"]},
        token=org.token,
    )
    assert reply.status == 201, reply.body
    return dataclasses.replace(org, space=reply.body)


async def test_rotated_key_closes_widgets_on_that_key_only(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        other_space = await _second_space(org)
        old_key, new_key = org.space["widget_key"], f"wk_{uuid.uuid4().hex}"
        async with (
            widget(org) as (tab, _),
            widget(org) as (another_visitor, _),
            widget(other_space) as (elsewhere, _),
            other_process(settings) as control,
        ):
            await sql(
                settings,
                "UPDATE spaces SET widget_key = %s WHERE id = %s RETURNING id",
                new_key,
                org.space["id"],
            )
            await control.do_rotate_widget_key(org.space["id"], new_key)
            assert await close_code(tab) == CLOSE_KEY_REVOKED
            assert await close_code(another_visitor) == CLOSE_KEY_REVOKED
            await assert_alive(elsewhere)
        assert await handshake_status(org, old_key) == 404
        rotated = dataclasses.replace(org, space={**org.space, "widget_key": new_key})
        async with widget(rotated) as (fresh, _), other_process(settings) as control:
            # The same rotation heard again (entries name the current key) leaves it open.
            await control.do_rotate_widget_key(org.space["id"], new_key)
            await assert_alive(fresh)


async def test_deleted_space_closes_widgets_and_ends_agent_feeds(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        kept = await _second_space(org)
        doomed_id = org.space["id"]
        async with (
            agent_socket(base_url, org.token, subscribe=doomed_id) as (agent, _),
            widget(org) as (visitor, _),
            other_process(settings) as control,
        ):
            await agent.send({"type": "subscribe", "space_id": kept.space["id"]})
            await agent.expect("subscribed", space_id=kept.space["id"])
            await sql(
                settings,
                "UPDATE spaces SET deleted_at = now() WHERE id = %s RETURNING id",
                doomed_id,
            )
            await control.do_revoke_space(doomed_id)
            assert await close_code(visitor) == CLOSE_KEY_REVOKED
            ended = await agent.expect("error", ref="subscribe", space_id=doomed_id)
            assert ended["code"] == "not_found"
            await agent.send({"type": "subscribe", "space_id": doomed_id})
            assert (await agent.expect("error"))["code"] == "not_found"
            # The agent's socket and its feed of the other space go on.
            async with widget(kept) as (other_visitor, _):
                ack = await other_visitor.say("still here?")
            new = await agent.expect("thread.new")
            assert new["thread"]["id"] == ack["thread_id"]
        assert await handshake_status(org, org.space["widget_key"]) == 404


async def test_handshake_race_widget_checked_before_deletion_registered_after_dispatch(
    base_url: str, settings: Settings
) -> None:
    """The key was checked just before the deletion committed; the follower dispatched it before
    the socket registered. The guard checks again and refuses, and costs no query otherwise."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        key, space_id = org.space["widget_key"], org.space["id"]
        async with (
            open_services(settings, projector=False) as services,
            other_process(settings) as control,
        ):
            registry = services.revocations
            check = CountedCheck(lambda: check_widget_key(services, key))

            # No revocation during the handshake: one check, and the watch is live.
            async with registry.open_widget_watch(key, check) as (space, earlier):
                assert space.id == space_id
                assert check.runs == 1

                async def delete_space() -> None:
                    await sql(
                        settings,
                        "UPDATE spaces SET deleted_at = now() WHERE id = %s RETURNING id",
                        space_id,
                    )
                    await control.do_revoke_space(space_id)

                await assert_handshake_refused_after_racing_revocation(
                    lambda racing: registry.open_widget_watch(key, racing),
                    check,
                    delete_space,
                    earlier,
                    NotFoundError,
                )
                assert check.runs == 3
                assert earlier.revoked is not None
                assert earlier.revoked.code == CLOSE_KEY_REVOKED


async def test_handshake_race_agent_checked_before_logout_registered_after_dispatch(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        sid = session_of(org.token)
        async with (
            open_services(settings, projector=False) as services,
            other_process(settings) as control,
        ):
            registry = services.revocations
            check = CountedCheck(lambda: check_sign_in(services, org.token))

            async with registry.open_agent_watch(check) as (agent, earlier):
                assert (agent.id, earlier.session_id, check.runs) == (org.agent["id"], sid, 1)

                async def log_out() -> None:
                    await sql(
                        settings,
                        "UPDATE refresh_tokens SET revoked_at = now()"
                        " WHERE family_id = %s RETURNING id",
                        sid,
                    )
                    await control.do_end_sign_ins(org.agent["id"], [sid])

                await assert_handshake_refused_after_racing_revocation(
                    registry.open_agent_watch, check, log_out, earlier, UnauthorizedError
                )
                assert check.runs == 3
                assert earlier.revoked is not None
                assert earlier.revoked.code == CLOSE_UNAUTHORIZED


class TestRedisOutage:
    """The follower backs off through an outage and resumes from its last id."""

    @pytest.fixture
    def settings(self, settings: Settings, private_valkey: tuple[Path, ValkeyProcess]) -> Settings:
        return settings.model_copy(update={"redis_url": private_valkey[1].url})

    async def test_revocation_after_an_outage_still_closes(
        self,
        base_url: str,
        settings: Settings,
        private_valkey: tuple[Path, ValkeyProcess],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        data, valkey = private_valkey
        with trio.fail_after(90):
            org = await make_org(base_url)
            async with agent_socket(base_url, org.token) as (agent, _):
                await trio.to_thread.run_sync(stop_valkey, data)
                with trio.fail_after(20):
                    while not any(
                        r.getMessage().startswith("control follower:") for r in caplog.records
                    ):
                        await trio.sleep(POLL_SECONDS)  # a log line has no event to wait on
                await trio.to_thread.run_sync(lambda: start_valkey(data, port=valkey.port))
                await sql(
                    settings,
                    "UPDATE agents SET deleted_at = now() WHERE id = %s RETURNING id",
                    org.agent["id"],
                )
                async with other_process(settings) as control:
                    await control.do_revoke_agent(org.agent["id"])
                # The follower may be in its longest back-off (5 s) when Redis returns.
                assert await close_code(agent, within=15) == CLOSE_UNAUTHORIZED
