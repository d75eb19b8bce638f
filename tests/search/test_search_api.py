"""GET /api/v1/search (chat/http/api/search.py, chat/db/search_queries.py): isolation between
organizations, English stemming, ranking, keyset pages, inert highlights, input limits."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import trio

from chat.config import Settings
from tests.helpers.api import MESSAGE_FIELDS, assert_error, failed_fields
from tests.helpers.chat import Org, make_org, widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import Reply, call

# Many messages from one visitor in a moment: lift the per-session budget.
FAST = {"visitor_messages_per_second": 100, "visitor_burst": 100}


async def _search(org: Org, q: str, **params: Any) -> Reply:
    query = urlencode({"q": q, **params})
    return await call("GET", f"{org.base}/api/v1/search?{query}", token=org.token)


async def _hits(org: Org, q: str, **params: Any) -> list[dict[str, Any]]:
    reply = await _search(org, q, **params)
    assert reply.status == 200, reply.body
    return list(reply.body["items"])


def _contents(hits: list[dict[str, Any]]) -> list[str]:
    return [h["message"]["content"] for h in hits]


async def _say_all(org: Org, contents: list[str], settings: Settings, name: str = "") -> str:
    """One visitor (named `name`) says each content in turn; waits until PostgreSQL holds them
    all and the visitor's name. The thread's id."""
    async with widget(org) as (visitor, _):
        if name:
            await visitor.send({"type": "identify", "name": name, "email": f"{name}@example.com"})
        acks = [await visitor.say(c) for c in contents]
    thread_id = str(acks[0]["thread_id"])
    await wait_for_rows(
        settings.database_url,
        "SELECT count(*) FROM messages WHERE thread_id = %s",
        (thread_id,),
        len(contents),
    )
    if name:
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM visitors v JOIN threads t ON t.visitor_id = v.id"
            " WHERE t.id = %s AND v.name = %s",
            (thread_id, name),
            1,
        )
    return thread_id


def _joined(hit: dict[str, Any]) -> str:
    return "".join(f["text"] for f in hit["snippet"])


def _marked(hit: dict[str, Any]) -> list[str]:
    return [f["text"] for f in hit["snippet"] if f["match"]]


async def test_another_organizations_messages_and_visitors_never_appear(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        acme = await make_org(base_url, settings=FAST)
        globex = await make_org(base_url, settings=FAST)
        word = "zq" + uuid.uuid4().hex[:6]  # found in both organizations, nowhere else
        acme_thread = await _say_all(acme, [f"acme {word} order"], settings, name="Ann" + word)
        globex_thread = await _say_all(
            globex, [f"globex {word} order", f"more {word}"], settings, name="Bea" + word
        )

        acme_hits = await _hits(acme, word)
        assert {h["message"]["thread_id"] for h in acme_hits} == {acme_thread}
        assert _contents(acme_hits) == [f"acme {word} order"]
        globex_hits = await _hits(globex, word)
        assert {h["message"]["thread_id"] for h in globex_hits} == {globex_thread}
        assert len(globex_hits) == 2

        acme_visitors = await _hits(acme, "ann" + word[:3], kind="visitors")  # by prefix
        assert [h["visitor"]["name"] for h in acme_visitors] == ["Ann" + word]
        assert acme_visitors[0]["latest_thread_id"] == acme_thread
        globex_visitors = await _hits(globex, "bea" + word, kind="visitors")
        assert [h["visitor"]["name"] for h in globex_visitors] == ["Bea" + word]

        # A page cursor of one organization shows the other nothing of its own.
        first = await _search(globex, word, limit=1)
        assert first.body["next_cursor"]
        rest = await _hits(acme, word, limit=1, cursor=first.body["next_cursor"])
        assert all(h["message"]["thread_id"] == acme_thread for h in rest)


async def test_english_stemming_finds_other_forms_of_a_word(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url, settings=FAST)
        await _say_all(
            org,
            ["I would like a refund", "Was my order refunded?", "Thanks, all good"],
            settings,
        )
        hits = await _hits(org, "refunds")
        assert sorted(_contents(hits)) == ["I would like a refund", "Was my order refunded?"]
        assert sorted(m for h in hits for m in _marked(h)) == ["refund", "refunded"]
        assert _contents(await _hits(org, '"my order"')) == ["Was my order refunded?"]
        assert _contents(await _hits(org, "refund -order")) == ["I would like a refund"]
        assert await _hits(org, "?!") == []  # nothing searchable: no hits, not an error


async def test_better_matches_rank_first_then_newest(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url, settings=FAST)
        await _say_all(
            org,
            [
                "invoice question",
                "invoice invoice invoice: three invoices are wrong",
                "another invoice question",
                "nothing relevant",
            ],
            settings,
        )
        hits = await _hits(org, "invoice")
        assert _contents(hits) == [
            "invoice invoice invoice: three invoices are wrong",
            # equal ranks: newest first
            "another invoice question",
            "invoice question",
        ]
        ranks = [h["rank"] for h in hits]
        assert ranks[0] > ranks[1] == ranks[2] > 0


async def test_pages_follow_the_cursor_without_repeats_or_gaps(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url, settings=FAST)
        contents = [f"parcel number {n}" + " parcel" * (n % 3) for n in range(7)]
        await _say_all(org, contents, settings)
        whole = await _hits(org, "parcel", limit=50)
        assert len(whole) == 7
        paged: list[dict[str, Any]] = []
        cursor = None
        for _ in range(10):
            params: dict[str, Any] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            reply = await _search(org, "parcel", **params)
            assert reply.status == 200, reply.body
            assert len(reply.body["items"]) <= 3
            paged += reply.body["items"]
            cursor = reply.body["next_cursor"]
            if cursor is None:
                break
        assert [h["message"]["id"] for h in paged] == [h["message"]["id"] for h in whole]


async def test_highlights_are_plain_text_fragments_of_the_original(
    base_url: str, settings: Settings
) -> None:
    """A message holding markup comes back as the very text, in fragments to render as text;
    the words inside the tags are searchable (content is plain text, not HTML)."""
    with trio.fail_after(60):
        org = await make_org(base_url, settings=FAST)
        evil = "<script>alert('pwned')</script> <img src=x onerror=alert(1)> &amp; pwned"
        await _say_all(org, [evil], settings)
        reply = await _search(org, "pwned")
        assert reply.status == 200 and (reply.header("content-type") or "").startswith(
            "application/json"
        )
        (hit,) = reply.body["items"]
        assert set(hit["message"]) == MESSAGE_FIELDS and hit["message"]["content"] == evil
        assert _joined(hit) == evil  # nothing dropped, nothing added, nothing escaped twice
        assert _marked(hit) == ["pwned", "pwned"]
        assert all(set(f) == {"text", "match"} for f in hit["snippet"])


async def test_a_long_message_is_cut_around_its_first_match(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url, settings=FAST)
        long = " ".join(["filler"] * 100) + " the warranty expired " + " ".join(["tail"] * 200)
        await _say_all(org, [long], settings)
        (hit,) = await _hits(org, "warranty")
        text = _joined(hit)
        assert text.startswith("…") and text.endswith("…") and len(text) < 300
        assert _marked(hit) == ["warranty"]
        assert text.strip("…") in long


async def test_bad_queries_are_clear_errors(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        url = f"{base_url}/api/v1/search"
        assert failed_fields(await call("GET", url, token=org.token)) == {"q"}
        assert failed_fields(await _search(org, "x" * 201)) == {"q"}
        assert failed_fields(await _search(org, "   ")) == {"q"}
        assert failed_fields(await _search(org, "a", kind="notes")) == {"kind"}
        assert failed_fields(await _search(org, "a", limit=51)) == {"limit"}
        assert_error(await _search(org, "a", cursor="nonsense"), 400, "invalid")
        visitor_cursor = f"v|0.5|{uuid.uuid4()}"
        assert_error(await _search(org, "a", cursor=visitor_cursor), 400, "invalid")
        assert_error(await call("GET", f"{url}?q=a"), 401, "unauthorized")
