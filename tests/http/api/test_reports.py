"""GET /api/v1/reports/conversations (chat/http/api/reports.py, chat/db/report_queries.py): exact
figures of a hand-computed fixture (tests/helpers/report_fixture.py) by day and week in the
organization's zone across a DST change, breakdowns, who sees what, tenancy, the CSV shape, and
the organization's time zone setting."""

from __future__ import annotations

import csv
import io
from typing import Any

import trio

from chat.config import Settings
from tests.helpers.api import NO_SUCH_ID, Member, add_member, assert_error, failed_fields
from tests.helpers.chat import Org, make_org
from tests.helpers.http import call
from tests.helpers.report_fixture import (
    EXPECTED_BY_AGENT,
    EXPECTED_DAYS,
    EXPECTED_TOTAL,
    EXPECTED_UTC_OPENED,
    EXPECTED_WEEKS,
    FIRST_DAY,
    LAST_DAY,
    TIME_ZONE,
    FixtureIds,
    figures,
    set_up,
)

WINDOW = f"from={FIRST_DAY}&to={LAST_DAY}"


async def _fixture(base_url: str, settings: Settings) -> tuple[Org, Member, Org, FixtureIds]:
    org = await make_org(base_url)
    bob, other, ids = await set_up(org, settings.database_url)
    return org, bob, other, ids


def _without_start(period: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in period.items() if k != "start"}


async def report(org_or_token: Org | str, base: str, query: str) -> Any:
    token = org_or_token if isinstance(org_or_token, str) else org_or_token.token
    return await call("GET", f"{base}/api/v1/reports/conversations?{query}", token=token)


async def test_figures_by_day_and_week_in_the_organizations_zone(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org, _, _, _ = await _fixture(base_url, settings)
        days = await report(org, base_url, WINDOW)
        assert days.status == 200, days.body
        body = days.body
        assert (body["from"], body["to"], body["interval"], body["time_zone"]) == (
            FIRST_DAY,
            LAST_DAY,
            "day",
            TIME_ZONE,
        )
        assert [p["start"] for p in body["periods"]] == [d for d, _ in EXPECTED_DAYS]
        for period, (day, expected) in zip(body["periods"], EXPECTED_DAYS, strict=True):
            assert _without_start(period) == expected, day
        assert body["total"] == EXPECTED_TOTAL
        assert body["breakdown"] == [] and body["agent_id"] is None

        weeks = (await report(org, base_url, f"{WINDOW}&interval=week")).body
        got = [(p["start"], p["opened"], p["closed"], p["expired"]) for p in weeks["periods"]]
        assert got == EXPECTED_WEEKS
        assert weeks["total"] == EXPECTED_TOTAL  # the window's, whatever the periods

        # The same dates cut in UTC days: the DST night's conversations move.
        api = f"{base_url}/api/v1"
        await call("PATCH", f"{api}/organization", {"time_zone": "UTC"}, token=org.token)
        utc = (await report(org, base_url, WINDOW)).body
        assert [p["opened"] for p in utc["periods"]] == EXPECTED_UTC_OPENED


async def test_breakdowns_and_filters(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org, bob, _, ids = await _fixture(base_url, settings)
        by_agent = (await report(org, base_url, f"{WINDOW}&by=agent")).body
        keys = {"a": ids.agents["a"], "b": ids.agents["b"], None: None}
        names = {"a": "Ada", "b": "Bob", None: None}
        expected = [
            {"key": keys[who], "name": names[who], **want} for who, want in EXPECTED_BY_AGENT
        ]
        assert by_agent["breakdown"] == expected
        assert by_agent["total"] == EXPECTED_TOTAL

        by_space = (await report(org, base_url, f"{WINDOW}&by=space")).body["breakdown"]
        assert [(r["key"], r["name"], r["opened"], r["closed"]) for r in by_space] == [
            (ids.spaces["s1"], "Shop", 4, 3),  # t1 t2 t4 t11; closed t6 t1 t11
            (ids.spaces["s2"], "Help", 3, 2),  # t3 t5 t7; closed t3 t5
        ]
        by_group = (await report(org, base_url, f"{WINDOW}&by=group")).body["breakdown"]
        assert [(r["key"], r["opened"], r["missed"]) for r in by_group] == [
            (None, 4, 1),  # t2 t4 t5 t7
            (ids.group, 3, 1),  # t1 t3 t11
        ]

        s2 = (await report(org, base_url, f"{WINDOW}&space_id={ids.spaces['s2']}")).body
        assert (s2["total"]["opened"], s2["total"]["closed"]) == (3, 2)
        grouped = (await report(org, base_url, f"{WINDOW}&group_id={ids.group}")).body
        assert (grouped["total"]["opened"], grouped["total"]["answered"]) == (3, 2)
        bobs = (await report(org, base_url, f"{WINDOW}&agent_id={ids.agents['b']}")).body
        assert bobs["total"] == dict(EXPECTED_BY_AGENT)["b"]
        assert bobs["agent_id"] == bob.agent["id"]


async def test_agents_see_their_own_figures_and_other_orgs_objects_are_not_found(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org, bob, other, ids = await _fixture(base_url, settings)
        own = await report(bob.token, base_url, WINDOW)
        assert own.status == 200, own.body
        assert own.body["agent_id"] == bob.agent["id"]
        assert own.body["total"] == dict(EXPECTED_BY_AGENT)["b"]
        by_agent = (await report(bob.token, base_url, f"{WINDOW}&by=agent")).body["breakdown"]
        assert [r["key"] for r in by_agent] == [bob.agent["id"]]
        assert_error(
            await report(bob.token, base_url, f"{WINDOW}&agent_id={ids.agents['a']}"),
            403,
            "forbidden",
        )
        # A supervisor sees the organization, and any agent's figures.
        sue = await add_member(f"{base_url}/api/v1", org.token, "Sue", role="supervisor")
        everyone = (await report(sue.token, base_url, WINDOW)).body
        assert everyone["total"] == EXPECTED_TOTAL and everyone["agent_id"] is None
        adas = await report(sue.token, base_url, f"{WINDOW}&agent_id={ids.agents['a']}")
        assert adas.body["total"] == dict(EXPECTED_BY_AGENT)["a"]
        # Another organization's space, group or agent is not found, and an unknown id too.
        other_group = await call(
            "POST", f"{base_url}/api/v1/groups", {"name": "Theirs"}, token=other.token
        )
        for query in (
            f"space_id={other.space['id']}",
            f"group_id={other_group.body['id']}",
            f"agent_id={other.agent['id']}",
            f"space_id={NO_SUCH_ID}",
        ):
            assert_error(await report(org, base_url, f"{WINDOW}&{query}"), 404, "not_found", query)
        # The other organization sees none of this one's conversations: its own t10 only.
        theirs = (await report(other, base_url, WINDOW)).body["total"]
        assert (theirs["opened"], theirs["closed"], theirs["answered"]) == (1, 1, 1)
        assert_error(await report("", base_url, WINDOW), 401, "unauthorized")


async def test_window_validation(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        for query, field in (
            ("from=2026-03-02&to=2026-03-01", "from"),
            ("from=2025-01-01&to=2026-03-01", "from"),  # over 366 days
            ("from=yesterday", "from"),
            ("to=0001-01-01", "to"),  # no date arithmetic overflows
            ("from=9999-12-31", "from"),
            ("interval=month", "interval"),
            ("by=visitor", "by"),
            ("space_id=nope", "space_id"),
        ):
            refused = await report(org, base_url, query)
            assert field in failed_fields(refused), (query, refused.body)
        # No dates: the last 30 days up to today in the organization's zone, every day listed.
        default = (await report(org, base_url, "")).body
        assert len(default["periods"]) == 30 and default["total"] == figures()
        year = await report(org, base_url, "from=2025-03-01&to=2026-02-28&interval=week")
        assert year.status == 200 and len(year.body["periods"]) == 53


async def test_csv_download(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org, _, _, ids = await _fixture(base_url, settings)
        for how in ({"query": "&format=csv"}, {"accept": "text/csv"}):
            headers = {"Authorization": f"Bearer {org.token}"}
            if "accept" in how:
                headers["Accept"] = how["accept"]
            url = f"{base_url}/api/v1/reports/conversations?{WINDOW}{how.get('query', '')}"
            got = await call("GET", url, headers=headers)
            assert got.status == 200, got.body
            assert got.header("content-type") == "text/csv; charset=utf-8"
            assert "attachment" in (got.header("content-disposition") or "")
            rows = list(csv.reader(io.StringIO(got.body)))
            assert rows[0][:4] == ["period_start", "opened", "answered", "missed"]
            assert [r[0] for r in rows[1:]] == [d for d, _ in EXPECTED_DAYS] + ["total"]
            total = dict(zip(rows[0][1:], rows[-1][1:], strict=True))
            assert total["opened"] == "7" and total["first_response_p90_seconds"] == "456.0"
            assert total["messages_per_conversation"] == "2.71"
        by = await call(
            "GET",
            f"{base_url}/api/v1/reports/conversations?{WINDOW}&by=agent&format=csv",
            token=org.token,
        )
        rows = list(csv.reader(io.StringIO(by.body)))
        assert rows[0][:2] == ["agent_id", "name"]
        assert [(r[0], r[1]) for r in rows[1:]] == [
            (ids.agents["a"], "Ada"),
            (ids.agents["b"], "Bob"),
            ("", ""),
            ("total", ""),
        ]
        # An unmeasured time is an empty cell: the unassigned row has no first response.
        unassigned = dict(zip(rows[0], rows[3], strict=True))
        assert unassigned["first_response_median_seconds"] == ""
        # The route is in the OpenAPI document, with its CSV answer.
        spec = (await call("GET", f"{base_url}/api/v1/openapi.json")).body
        answer = spec["paths"]["/api/v1/reports/conversations"]["get"]["responses"]["200"]
        assert set(answer["content"]) == {"application/json", "text/csv"}
        # JSON stays the default for a browser's Accept.
        json_reply = await call(
            "GET",
            f"{base_url}/api/v1/reports/conversations?{WINDOW}",
            headers={"Authorization": f"Bearer {org.token}", "Accept": "*/*"},
        )
        assert json_reply.body["total"] == EXPECTED_TOTAL


async def test_the_organizations_time_zone_is_an_iana_name(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        url = f"{base_url}/api/v1/organization"
        assert (await call("GET", url, token=org.token)).body["time_zone"] == "UTC"
        for bad in ("Europe/Atlantis", "CEST", "../etc/passwd", "", "EST5EDT,M3.2.0,M11.1.0"):
            refused = await call("PATCH", url, {"time_zone": bad}, token=org.token)
            assert "time_zone" in failed_fields(refused), (bad, refused.body)
        ok = await call("PATCH", url, {"time_zone": "America/Sao_Paulo"}, token=org.token)
        assert ok.status == 200 and ok.body["time_zone"] == "America/Sao_Paulo"
        bob = await add_member(f"{base_url}/api/v1", org.token)
        assert_error(
            await call("PATCH", url, {"time_zone": "UTC"}, token=bob.token), 403, "forbidden"
        )
