"""Visitors' ratings (chat/actors/visitor_rating.py, chat/streams/ratings.py, the projection and
chat/http/api/ratings.py): a visitor rates their own finished conversation once; agents get it
live and over REST; no visitor ever gets one; the report counts exactly."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import trio

from chat.config import Settings
from chat.events import ThreadRated
from tests.helpers.chat import Client, agent_socket, make_org, widget
from tests.helpers.db import query, wait_for_rows
from tests.helpers.http import call
from tests.notes.helpers import api, server_log, space_entries, thread_entries


async def _closed_conversation(agent: Client, visitor: Client) -> str:
    """A conversation the agent claimed and closed; the visitor has seen it close."""
    first = await visitor.say("hello, I need help")
    thread_id = str(first["thread_id"])
    await agent.expect("thread.new")
    await agent.send({"type": "claim", "thread_id": thread_id})
    await agent.expect("ack", ref="claim")
    await agent.send({"type": "close", "thread_id": thread_id})
    await agent.expect("ack", ref="close")
    await _sees_closed(visitor)
    return thread_id


async def _sees_closed(visitor: Client) -> None:
    """The visitor's `thread` frames up to the one that says closed (claimed comes before)."""
    while (await visitor.expect("thread"))["thread"]["status"] != "closed":
        pass


def _rate(thread_id: str, score: str = "good", client_id: str | None = None, **extra: Any) -> Any:
    return {
        "type": "rate",
        "thread_id": thread_id,
        "client_id": client_id or str(uuid.uuid4()),
        "score": score,
        **extra,
    }


def _mentions_ratings(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("type") == "rating" or "RATED:" in json.dumps(f)]


async def test_a_visitor_rates_their_closed_conversation_once(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        space_id = org.space["id"]
        async with (
            agent_socket(base_url, org.token, subscribe=space_id) as (agent, _),
            widget(org) as (visitor, hello),
        ):
            thread_id = await _closed_conversation(agent, visitor)
            # Before it finished nothing could be rated; now it can, once.
            frame = _rate(thread_id, comment="  RATED: quick and kind \u202e ")
            await visitor.send(frame)
            ack = await visitor.expect("ack", ref="rate", client_id=frame["client_id"])
            live = await agent.expect("rating")
            assert live["cursor"] == ack["id"]
            assert live["rating"] | {"created_at": None} == {
                "id": ack["id"],
                "thread_id": thread_id,
                "visitor_id": hello["visitor"]["id"],
                "agent_id": org.agent["id"],
                "score": "good",
                "comment": "RATED: quick and kind",
                "created_at": None,
            }
            # The same client_id again (a lost ack): the same answer, stored once.
            await visitor.send(frame)
            again = await visitor.expect("ack", ref="rate", client_id=frame["client_id"])
            assert again["id"] == ack["id"]
            # A second rating: refused, the first stays.
            other = _rate(thread_id, "bad")
            await visitor.send(other)
            refused = await visitor.expect("error", client_id=other["client_id"])
            assert refused["code"] == "already_rated"
            # Another tab of the visitor, and the visitor's own frames, carry no rating entry.
            await visitor.send({"type": "ping"})
            await visitor.expect("pong")
            assert _mentions_ratings(visitor.seen) == []

        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM ratings WHERE thread_id = %s",
            (thread_id,),
            1,
        )
        rows = query(
            settings.database_url,
            "SELECT score, comment, agent_id::text FROM ratings WHERE thread_id = %s",
            (thread_id,),
        )
        assert rows == [("good", "RATED: quick and kind", org.agent["id"])]
        got = await call("GET", f"{api(org)}/threads/{thread_id}/rating", token=org.token)
        assert got.status == 200, got.body
        assert got.body["id"] == ack["id"] and got.body["score"] == "good"

        async with server_log(settings) as log:
            kinds = [type(e.event) for e in await space_entries(log, space_id)]
            assert kinds.count(ThreadRated) == 1
            in_thread = await thread_entries(log, space_id, thread_id)
            assert not any(isinstance(e.event, ThreadRated) for e in in_thread)

        # A new socket of the visitor: its welcome knows nothing of the rating.
        async with widget(org, session=hello["session"]) as (_tab, fresh):
            assert _mentions_ratings([fresh]) == []


async def test_two_tabs_racing_to_rate_have_one_winner(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        space_id = org.space["id"]
        async with (
            agent_socket(base_url, org.token, subscribe=space_id) as (agent, _),
            widget(org) as (visitor, hello),
            widget(org, session=hello["session"]) as (tab, _),
        ):
            thread_id = await _closed_conversation(agent, visitor)
            frames = [_rate(thread_id, "good"), _rate(thread_id, "bad")]
            answers: list[dict[str, Any]] = []

            async def rate(client: Client, frame: dict[str, Any]) -> None:
                await client.send(frame)
                while True:
                    got = await client.next()
                    if got.get("client_id") == frame["client_id"]:
                        answers.append(got)
                        return

            async with trio.open_nursery() as nursery:
                nursery.start_soon(rate, visitor, frames[0])
                nursery.start_soon(rate, tab, frames[1])
            assert sorted(a["type"] for a in answers) == ["ack", "error"]
            winner = next(a for a in answers if a["type"] == "ack")
            loser = next(a for a in answers if a["type"] == "error")
            assert loser["code"] == "already_rated"
            live = await agent.expect("rating")
            assert live["rating"]["id"] == winner["id"]
        async with server_log(settings) as log:
            rated = [e for e in await space_entries(log, space_id) if type(e.event) is ThreadRated]
            assert [e.id for e in rated] == [winner["id"]]


async def test_only_the_visitors_own_finished_thread_can_be_rated(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        other = await make_org(base_url)
        space_id = org.space["id"]
        async with (
            agent_socket(base_url, org.token, subscribe=space_id) as (agent, _),
            widget(org) as (visitor, _hello),
            widget(org) as (stranger, _),
            widget(other) as (elsewhere, _),
        ):
            open_thread = str((await visitor.say("still open"))["thread_id"])
            frame = _rate(open_thread)
            await visitor.send(frame)
            assert (await visitor.expect("error", client_id=frame["client_id"]))[
                "code"
            ] == "thread_open"
            await agent.send({"type": "close", "thread_id": open_thread})
            await agent.expect("ack", ref="close")
            await _sees_closed(visitor)
            # Another visitor of the space, and one of another organization: no such thread.
            for client in (stranger, elsewhere):
                frame = _rate(open_thread)
                await client.send(frame)
                error = await client.expect("error", client_id=frame["client_id"])
                assert error["code"] == "not_found"
            unknown = _rate(str(uuid.uuid4()))
            await visitor.send(unknown)
            assert (await visitor.expect("error", client_id=unknown["client_id"]))[
                "code"
            ] == "not_found"
            bad = _rate(open_thread, comment="x" * 1001)
            await visitor.send(bad)
            assert (await visitor.expect("error"))["code"] == "invalid"
        # The agent of another organization reads no rating of this one.
        other_read = await call(
            "GET", f"{api(org)}/threads/{open_thread}/rating", token=other.token
        )
        assert other_read.status == 404


def _insert(url: str, space_id: str, agent_id: str | None, score: str, at: datetime) -> None:
    """A projected rating (the report reads only the table)."""
    query(
        url,
        "INSERT INTO ratings (thread_id, space_id, visitor_id, agent_id, score, comment,"
        " client_id, entry_ms, entry_seq, created_at)"
        " VALUES (%s, %s, %s, %s, %s, NULL, 'c', %s, 0, %s) RETURNING 1",
        (
            str(uuid.uuid4()),
            space_id,
            str(uuid.uuid4()),
            agent_id,
            score,
            int(at.timestamp() * 1000),
            at,
        ),
    )


async def test_the_report_counts_exactly_per_space_and_agent(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        other = await make_org(base_url)
        second = await call(
            "POST",
            f"{api(org)}/spaces",
            {"name": "Docs", "allowed_domains": ["docs.example.com"]},
            token=org.token,
        )
        assert second.status == 201
        shop, docs = org.space["id"], second.body["id"]
        ada = org.agent["id"]
        now = datetime.now(UTC)
        url = settings.database_url
        # Shop: Ada 3 good 1 bad, unclaimed 1 bad; Docs: Ada 1 good; one old, one elsewhere.
        for score in ("good", "good", "good", "bad"):
            _insert(url, shop, ada, score, now - timedelta(hours=1))
        _insert(url, shop, None, "bad", now - timedelta(hours=2))
        _insert(url, docs, ada, "good", now - timedelta(days=2))
        _insert(url, shop, ada, "bad", now - timedelta(days=40))  # outside the window
        _insert(url, other.space["id"], other.agent["id"], "good", now)

        report = await call("GET", f"{api(org)}/reports/ratings", token=org.token)
        assert report.status == 200, report.body
        body = report.body
        assert (body["total"], body["good"], body["bad"], body["share_good"]) == (6, 4, 2, 0.6667)
        assert body["agents"] == [
            {"agent_id": ada, "name": "Ada", "total": 5, "good": 4, "bad": 1, "share_good": 0.8},
            {"agent_id": None, "name": None, "total": 1, "good": 0, "bad": 1, "share_good": 0.0},
        ]
        assert body["spaces"] == [
            {"space_id": shop, "total": 5, "good": 3, "bad": 2, "share_good": 0.6},
            {"space_id": docs, "total": 1, "good": 1, "bad": 0, "share_good": 1.0},
        ]
        # One space, and a window.
        since = (now - timedelta(days=1)).isoformat()
        one = await call(
            "GET",
            f"{api(org)}/reports/ratings?space_id={docs}&from={since.replace('+', '%2B')}",
            token=org.token,
        )
        assert one.status == 200, one.body
        assert (one.body["total"], one.body["share_good"], one.body["space_id"]) == (0, None, docs)
        # Another organization's space: 404; a window backwards: 400.
        theirs = await call(
            "GET", f"{api(org)}/reports/ratings?space_id={other.space['id']}", token=org.token
        )
        assert theirs.status == 404 and theirs.body["error"]["code"] == "not_found"
        backwards = await call(
            "GET",
            f"{api(org)}/reports/ratings?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            token=org.token,
        )
        assert backwards.status == 400, backwards.body


async def test_rating_routes_are_in_the_openapi_document(base_url: str) -> None:
    doc = await call("GET", f"{base_url}/api/v1/openapi.json")
    paths = {k.removeprefix("/api/v1"): v for k, v in doc.body["paths"].items()}
    params = {p["name"] for p in paths["/reports/ratings"]["get"]["parameters"]}
    assert params == {"space_id", "from", "to"}
    assert "404" in paths["/reports/ratings"]["get"]["responses"]
    assert set(paths["/threads/{thread_id}/rating"]) == {"get"}
