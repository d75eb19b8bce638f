"""The live floor view end to end (structures.md, "The floor view"): a supervisor's socket
subscribes with `floor.subscribe` and hears the figures change as visitors wait, an agent claims
and answers, an agent goes away and capacity fills, each figure checked exactly against the
scripted scenario (times from the log's own ids and the threads' starts). No refresh: every
figure arrives in a `floor` frame the service pushed. Also who may watch (an agent may not) and
tenancy (another organization's space never appears)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import trio
import trio.testing

from chat.actors.floor import FloorEndedError, FloorHandle
from chat.config import Settings
from tests.helpers.api import Member, add_member
from tests.helpers.chat import Client, Org, agent_socket, make_org, widget
from tests.helpers.db import wait_for_messages
from tests.helpers.http import call
from tests.http.test_metrics import scrape, value

FLOOR_WITHIN = 15.0  # a change reaches the floor within its pace (1 s), on a loaded machine


async def next_floor(client: Client, until: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first `floor` frame from now on that satisfies `until` (the frames before it are
    the floor on its way there); an error frame fails."""
    with trio.fail_after(FLOOR_WITHIN):
        while True:
            frame = await client.next(FLOOR_WITHIN)
            assert frame["type"] != "error", frame
            if frame["type"] == "floor" and until(frame):
                return frame


def ms(rfc3339: str) -> int:
    return round(datetime.fromisoformat(rfc3339).timestamp() * 1000)


def seconds(first_answer_id: str, thread: dict[str, Any]) -> float:
    """A first response as the floor measures it: the answer's entry time minus the start."""
    return (int(first_answer_id.split("-")[0]) - ms(thread["created_at"])) / 1000


def cont(values: list[float], fraction: float) -> float:
    """percentile_cont, by hand, in tenths."""
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 1)


def space_of(frame: dict[str, Any], org: Org) -> dict[str, Any]:
    [space] = [s for s in frame["spaces"] if s["space_id"] == org.space["id"]]
    return space


def agent_of(frame: dict[str, Any], member: Member) -> dict[str, Any]:
    [agent] = [a for a in frame["agents"] if a["id"] == member.agent["id"]]
    return agent


async def _thread(org: Org, token: str, thread_id: str) -> dict[str, Any]:
    got = await call("GET", f"{org.base}/api/v1/threads/{thread_id}", token=token)
    assert got.status == 200, got.body
    return dict(got.body)


async def test_the_floor_follows_a_scripted_shift(base_url: str) -> None:
    with trio.fail_after(120):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        sue = await add_member(api, org.token, "Sue", role="supervisor")
        hal = await add_member(api, org.token, "Hal")
        tia = await add_member(api, org.token, "Tia")
        for member, cap in ((hal, 2), (tia, 3)):
            changed = await call(
                "PATCH",
                f"{api}/agents/{member.agent['id']}",
                {"max_concurrent_chats": cap},
                token=org.token,
            )
            assert changed.status == 200, changed.body
        hal_id, tia_id, sue_id = (m.agent["id"] for m in (hal, tia, sue))

        async with agent_socket(base_url, sue.token) as (watcher, _):
            await watcher.send({"type": "floor.subscribe"})
            first = await next_floor(watcher, lambda f: True)
            space = space_of(first, org)
            assert (space["name"], space["waiting"], space["active"]) == ("Shop", 0, 0)
            assert space["longest_waiting_since"] is None
            assert space["first_response"] == {
                "count": 0,
                "median_seconds": None,
                "p90_seconds": None,
            }
            assert (space["agents_online"], space["agents_away"]) == (1, 0)  # her own socket
            assert first["window_seconds"] == 3600
            assert [g["group_id"] for g in space["groups"]] == [None]  # no groups: the team
            assert {a["id"]: a["status"] for a in first["agents"]} == {
                org.agent["id"]: "offline",
                sue_id: "online",
                hal_id: "offline",
                tia_id: "offline",
            }

            async with (
                agent_socket(base_url, hal.token) as (hal_socket, _),
                agent_socket(base_url, tia.token),
            ):
                frame = await next_floor(watcher, lambda f: space_of(f, org)["agents_online"] == 3)
                assert {a["id"] for a in frame["agents"] if a["status"] == "online"} == {
                    sue_id,
                    hal_id,
                    tia_id,
                }

                # Two visitors wait.
                async with widget(org) as (one, _):
                    t1 = (await one.say("hello"))["thread_id"]
                async with widget(org) as (two, _):
                    t2 = (await two.say("hi there"))["thread_id"]
                thread1 = await _thread(org, hal.token, t1)
                thread2 = await _thread(org, hal.token, t2)
                frame = await next_floor(watcher, lambda f: space_of(f, org)["waiting"] == 2)
                space = space_of(frame, org)
                assert (space["waiting"], space["active"]) == (2, 0)
                assert space["longest_waiting_since"] == thread1["created_at"]
                assert frame["total"]["waiting"] == 2

                # Hal claims the first: one waits (since the second started), one is served.
                claimed = await call("POST", f"{api}/threads/{t1}/claim", token=hal.token)
                assert claimed.status == 200, claimed.body
                frame = await next_floor(watcher, lambda f: space_of(f, org)["active"] == 1)
                space = space_of(frame, org)
                assert (space["waiting"], space["active"]) == (1, 1)
                assert space["longest_waiting_since"] == thread2["created_at"]
                assert (agent_of(frame, hal)["load"], agent_of(frame, hal)["capacity"]) == (1, 2)

                # Hal answers: the first response, exactly the answer's time minus the start.
                answer1 = await _agent_says(hal_socket, t1, "How can I help?")
                first_response = seconds(answer1, thread1)
                frame = await next_floor(
                    watcher, lambda f: space_of(f, org)["first_response"]["count"] == 1
                )
                assert space_of(frame, org)["first_response"] == {
                    "count": 1,
                    "median_seconds": round(first_response, 1),
                    "p90_seconds": round(first_response, 1),
                }
                # A second answer in the same conversation is no first response.
                await _agent_says(hal_socket, t1, "Still there?")

                # Tia goes away: present, not accepting.
                away = await call("PATCH", f"{api}/auth/me", {"accepting_chats": False},
                                  token=tia.token)  # fmt: skip
                assert away.status == 200, away.body
                frame = await next_floor(watcher, lambda f: space_of(f, org)["agents_away"] == 1)
                space = space_of(frame, org)
                assert (space["agents_online"], space["agents_away"]) == (2, 1)
                assert agent_of(frame, tia)["status"] == "away"

                # Hal takes the second: at capacity (2 of 2), nobody waits.
                claimed = await call("POST", f"{api}/threads/{t2}/claim", token=hal.token)
                assert claimed.status == 200, claimed.body
                answer2 = await _agent_says(hal_socket, t2, "Hello!")
                both = [first_response, seconds(answer2, thread2)]
                frame = await next_floor(
                    watcher, lambda f: space_of(f, org)["first_response"]["count"] == 2
                )
                space = space_of(frame, org)
                assert (space["waiting"], space["active"]) == (0, 2)
                assert space["longest_waiting_since"] is None
                assert (agent_of(frame, hal)["load"], agent_of(frame, hal)["capacity"]) == (2, 2)
                assert space["first_response"] == {
                    "count": 2,
                    "median_seconds": cont(both, 0.5),
                    "p90_seconds": cont(both, 0.9),
                }
                assert frame["total"]["first_response"] == space["first_response"]
                # Past capacity: a third conversation waits, and Hal's claim of it is refused.
                async with widget(org) as (three, _):
                    t3 = (await three.say("anyone?"))["thread_id"]
                refused = await call("POST", f"{api}/threads/{t3}/claim", token=hal.token)
                assert refused.status == 409, refused.body
                frame = await next_floor(watcher, lambda f: space_of(f, org)["waiting"] == 1)
                assert agent_of(frame, hal)["load"] == 2

                # Hal closes the first: his load falls; the hour's first responses stay.
                closed = await call("POST", f"{api}/threads/{t1}/close", token=hal.token)
                assert closed.status == 200, closed.body
                frame = await next_floor(watcher, lambda f: agent_of(f, hal)["load"] == 1)
                space = space_of(frame, org)
                assert (space["waiting"], space["active"]) == (1, 1)
                assert space["first_response"]["count"] == 2

            # Hal and Tia leave: gone from the floor.
            frame = await next_floor(watcher, lambda f: space_of(f, org)["agents_online"] == 1)
            assert space_of(frame, org)["agents_away"] == 0
            assert agent_of(frame, tia)["status"] == "offline"
            assert agent_of(frame, hal)["status"] == "offline"


async def _agent_says(socket: Client, thread_id: str, content: str) -> str:
    client_id = f"c-{thread_id[:8]}-{len(socket.seen)}"
    await socket.send(
        {"type": "message", "thread_id": thread_id, "client_id": client_id, "content": content}
    )
    ack = await socket.expect("ack", client_id=client_id)
    return str(ack["id"])


async def test_only_supervisors_and_admins_watch_the_floor(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token, "Bob")
        sue = await add_member(api, org.token, "Sue", role="supervisor")
        async with agent_socket(base_url, bob.token) as (agent, _):
            await agent.send({"type": "floor.subscribe"})
            refused = await agent.expect_any(("error", "floor"))
            assert refused["type"] == "error", refused
            assert (refused["code"], refused["ref"]) == ("forbidden", "floor.subscribe")
        async with (
            agent_socket(base_url, sue.token) as (supervisor, _),
            agent_socket(base_url, org.token) as (admin, _),
        ):
            for watcher in (supervisor, admin):
                await watcher.send({"type": "floor.subscribe"})
                floor = await watcher.expect_any(("error", "floor"))
                assert floor["type"] == "floor", floor
                assert [s["space_id"] for s in floor["spaces"]] == [org.space["id"]]
            # Two sockets watch one floor (one per organization and process).
            watching = await scrape(base_url)
            assert value(watching, "chat_floors", what="floors") == 1
            assert value(watching, "chat_floors", what="viewers") == 2
            # Leaving: the last viewer stops the organization's floor in this process.
            for watcher in (supervisor, admin):
                await watcher.send({"type": "floor.unsubscribe"})
                await watcher.send({"type": "ping"})
                await watcher.expect("pong")  # frames are handled in order
            left = await scrape(base_url)
            assert value(left, "chat_floors", what="floors") == 0
            assert value(left, "chat_floors", what="viewers") == 0


async def test_another_organizations_space_never_appears(base_url: str) -> None:
    with trio.fail_after(60):
        ours, theirs = await make_org(base_url), await make_org(base_url)
        async with widget(theirs) as (visitor, _):
            await visitor.say("hello from elsewhere")
        async with (
            agent_socket(base_url, ours.token) as (we, _),
            agent_socket(base_url, theirs.token) as (they, _),
        ):
            await we.send({"type": "floor.subscribe"})
            await they.send({"type": "floor.subscribe"})
            theirs_floor = await next_floor(they, lambda f: f["total"]["waiting"] == 1)
            assert [s["space_id"] for s in theirs_floor["spaces"]] == [theirs.space["id"]]
            # A visitor of ours: our floor moves, and still lists only our space.
            async with widget(ours) as (visitor, _):
                await visitor.say("hello")
            floor = await next_floor(we, lambda f: f["total"]["waiting"] == 1)
            assert [s["space_id"] for s in floor["spaces"]] == [ours.space["id"]]
            assert {a["id"] for a in floor["agents"]} == {ours.agent["id"]}
            for frame in we.seen:
                assert theirs.space["id"] not in str(frame), frame


async def test_the_hours_earlier_answers_come_from_the_projected_log(
    base_url: str, settings: Settings
) -> None:
    """A floor that starts after a first response counts it (PostgreSQL, once, at the start);
    a conversation answered before and reopened by its visitor gives no first response again
    (as in the reports), though its state no longer says it was answered."""
    with trio.fail_after(90):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        hal = await add_member(api, org.token, "Hal")
        async with agent_socket(base_url, hal.token) as (hal_socket, _):
            async with widget(org) as (visitor, welcome):
                t1 = (await visitor.say("hello"))["thread_id"]
            thread1 = await _thread(org, hal.token, t1)
            claimed = await call("POST", f"{api}/threads/{t1}/claim", token=hal.token)
            assert claimed.status == 200, claimed.body
            answer = await _agent_says(hal_socket, t1, "Hello, Hal here")
            closed = await call("POST", f"{api}/threads/{t1}/close", token=hal.token)
            assert closed.status == 200, closed.body
            async with widget(org, session=welcome["session"]) as (again, _):
                reopened = await again.say("one more thing")
            assert reopened["thread_id"] == t1  # the same conversation, waiting again
            await wait_for_messages(settings.database_url, t1, 3)

            async with agent_socket(base_url, org.token) as (watcher, _):
                await watcher.send({"type": "floor.subscribe"})
                frame = await next_floor(watcher, lambda f: True)
                space = space_of(frame, org)
                exact = round(seconds(answer, thread1), 1)
                assert space["first_response"] == {
                    "count": 1,
                    "median_seconds": exact,
                    "p90_seconds": exact,
                }
                assert (space["waiting"], space["active"]) == (1, 0)

                claimed = await call("POST", f"{api}/threads/{t1}/claim", token=hal.token)
                assert claimed.status == 200, claimed.body
                await _agent_says(hal_socket, t1, "Sure, go ahead")
                async with widget(org) as (other, _):
                    await other.say("hi")  # a change after the answer: the next frame
                frame = await next_floor(watcher, lambda f: space_of(f, org)["waiting"] == 1)
                space = space_of(frame, org)
                assert space["active"] == 1
                assert space["first_response"]["count"] == 1


async def test_spaces_and_agents_added_while_watching(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        async with agent_socket(base_url, org.token) as (watcher, _):
            await watcher.send({"type": "floor.subscribe"})
            await next_floor(watcher, lambda f: len(f["spaces"]) == 1)
            body = {"name": "Blog", "allowed_domains": ["blog.example.com"]}
            blog = await call("POST", f"{api}/spaces", body, token=org.token)
            assert blog.status == 201, blog.body
            frame = await next_floor(watcher, lambda f: len(f["spaces"]) == 2)
            assert [s["name"] for s in frame["spaces"]] == ["Blog", "Shop"]
            gone = await call("DELETE", f"{api}/spaces/{blog.body['id']}", token=org.token)
            assert gone.status in (200, 204), gone.body
            frame = await next_floor(watcher, lambda f: len(f["spaces"]) == 1)
            assert [s["space_id"] for s in frame["spaces"]] == [org.space["id"]]
            # An agent created while the floor runs shows as soon as it connects.
            neo = await add_member(api, org.token, "Neo")
            async with agent_socket(base_url, neo.token):
                frame = await next_floor(
                    watcher,
                    lambda f: (
                        any(a["id"] == neo.agent["id"] for a in f["agents"])
                        and agent_of(f, neo)["status"] == "online"
                    ),
                )
                assert space_of(frame, org)["agents_online"] == 2  # Ada (the watcher) and Neo


async def test_a_slow_viewer_gets_the_latest_frame_only() -> None:
    """Each frame is the whole floor: a viewer that missed some skips to the newest."""
    handle = FloorHandle("org", {})
    for n in range(3):
        handle.publish(f"frame {n}")
    assert await handle.next_frame(0) == (3, "frame 2")
    got: list[tuple[int, str]] = []

    async def wait_newer() -> None:
        got.append(await handle.next_frame(3))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(wait_newer)
        await trio.testing.wait_all_tasks_blocked()
        assert got == []  # nothing newer yet: it waits
        handle.publish("frame 3")
    assert got == [(4, "frame 3")]
    handle.end()
    with pytest.raises(FloorEndedError):
        await handle.next_frame(3)
