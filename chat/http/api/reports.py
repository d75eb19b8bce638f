"""Conversation reports (README "Reports", structures.md "Reports"): opened, closed, missed,
first response and resolution times, messages per conversation, by day or week in the
organization's time zone, broken down by space, group or agent; as JSON or CSV.

Who sees what: admins and supervisors (chat/auth/roles.py, `supervises`) every conversation of
the organization; any other agent only the conversations they hold, so their own figures (asking
for another agent's is 403). Another organization's space, group or agent is 404.

The query model and reply shapes live here rather than in bodies.py and replies.py: they serve
this route only.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from quart import Response, jsonify, request

from chat.auth.roles import supervises
from chat.db import accounts, group_queries
from chat.db.report_queries import (
    FIGURES,
    Dimension,
    Interval,
    ReportRows,
    ReportScope,
    conversation_report,
    finish,
)
from chat.errors import FieldInvalidError, ForbiddenError, NotFoundError, UnauthorizedError
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.sign_in_copy import org_spaces
from chat.services import Services

routes = Routes(tag="reports", api_keys=True)

# A report without `from` covers this many days up to `to`.
DEFAULT_REPORT_DAYS = 30
# The longest window one report may cover: a year (a leap one too). The bench times a year of
# data (README "Performance").
MAX_REPORT_DAYS = 366
# The dates a report may name: far enough for any real data, and no date arithmetic overflows.
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2199, 12, 31)
CSV_MEDIA = "text/csv"


class ReportQuery(BaseModel):
    # Unknown query keys are ignored, as on every list route (chat/http/bodies.py, _Query).
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    first_day: date | None = Field(
        default=None,
        alias="from",
        ge=EARLIEST_DAY,
        le=LATEST_DAY,
        description="First day (YYYY-MM-DD, the organization's time zone, inclusive);"
        f" default {DEFAULT_REPORT_DAYS - 1} days before `to`",
    )
    last_day: date | None = Field(
        default=None,
        alias="to",
        ge=EARLIEST_DAY,
        le=LATEST_DAY,
        description="Last day (YYYY-MM-DD, inclusive); default today in the organization's zone",
    )
    interval: Interval = Field(default="day", description="Periods: days, or weeks from Monday")
    space_id: UUID | None = Field(default=None, description="One space; absent: all live spaces")
    group_id: UUID | None = Field(default=None, description="Conversations routed in one group")
    agent_id: UUID | None = Field(
        default=None, description="Conversations held by one agent (plain agents: only their own)"
    )
    by: Dimension | None = Field(
        default=None, description="Also break the window down by space, group or agent"
    )
    format: Literal["json", "csv"] | None = Field(
        default=None, description="csv: a download (also chosen by `Accept: text/csv`)"
    )


class Figures(BaseModel):
    model_config = ConfigDict(frozen=True)
    opened: int = Field(description="Conversations that started in the period")
    answered: int = Field(
        description="Of those opened, how many got a person's message (an agent's, not a bot's)"
    )
    missed: int = Field(
        description="Of those opened, how many ended with no answer, from a person or a bot"
    )
    first_response_median_seconds: float | None = Field(
        description="Median of (first message by a person - start) over the answered; null: none"
    )
    first_response_p90_seconds: float | None
    visitor_messages: int = Field(description="Visitor messages of the conversations opened")
    agent_messages: int = Field(description="People's messages of the conversations opened")
    bot_answered: int = Field(
        default=0, description="Of those opened, how many got a bot's message (README, Bots)"
    )
    bot_only: int = Field(
        default=0, description="Of those opened, how many ended answered by a bot and no person"
    )
    bot_first_response_median_seconds: float | None = Field(
        default=None, description="Median of (first bot message - start) over the bot_answered"
    )
    bot_first_response_p90_seconds: float | None = None
    bot_messages: int = Field(default=0, description="Bots' messages of the conversations opened")
    closed: int = Field(description="Conversations closed (by an agent or idle) in the period")
    expired: int = Field(description="Conversations that expired unclosed in the period")
    resolution_median_seconds: float | None = Field(
        description="Median of (close - start) over the closed; null: none"
    )
    resolution_p90_seconds: float | None
    messages_per_conversation: float | None = Field(
        description="(visitor + agent + bot messages) / opened; null when none opened"
    )
    rated_good: int = Field(description="Visitors' good ratings given in the period")
    rated_bad: int = Field(description="Visitors' bad ratings given in the period")
    share_good: float | None = Field(description="rated_good / all ratings; null when none")


class Period(Figures):
    start: date = Field(description="The period's first day (weeks: clipped to `from`)")


class BreakdownRow(Figures):
    key: UUID | None = Field(description="The space, group or agent; null: no group, unassigned")
    name: str | None


class ConversationReport(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)
    from_: date = Field(alias="from")
    to: date
    interval: Interval
    time_zone: str = Field(description="The organization's IANA zone the days are cut in")
    space_id: UUID | None
    group_id: UUID | None
    agent_id: UUID | None = Field(description="Set to the caller for agents who see their own")
    by: Dimension | None
    total: Figures = Field(description="The whole window (medians of it, not of the periods)")
    periods: list[Period] = Field(description="Every period of the window, oldest first")
    breakdown: list[BreakdownRow] = Field(description="With `by`: most opened first")


@routes.route(
    "GET",
    "/reports/conversations",
    summary="Conversation figures by day or week, per space, group or agent, as JSON or CSV",
    query=ReportQuery,
    reply=ConversationReport,
    errors=(403, 404),
    text_reply=(CSV_MEDIA,),
)
async def conversations_report(services: Services, caller: Caller, query: ReportQuery) -> Response:
    """Computed from the projected log in PostgreSQL, so a conversation counts once the
    projector has written it (normally within a second)."""
    org_id = caller.agent.organization_id
    org = await services.db.run(lambda c: accounts.organization_by_id(c, org_id))
    if org is None:
        raise UnauthorizedError("the organization no longer exists")
    first_day, last_day = _window(query, org.time_zone)
    agent_id = _agent_filter(caller, query.agent_id)
    spaces = {s.id: s.name for s in await org_spaces(services, org_id)}
    if query.space_id is not None and str(query.space_id) not in spaces:
        raise NotFoundError("no such space")
    await _check_group_and_agent(services, org_id, query.group_id, agent_id)
    scope = ReportScope(
        space_ids=[str(query.space_id)] if query.space_id else list(spaces),
        first_day=first_day,
        last_day=last_day,
        time_zone=org.time_zone,
        interval=query.interval,
        group_id=str(query.group_id) if query.group_id else None,
        agent_id=agent_id,
        by=query.by,
    )
    rows = await services.db.run(lambda c: conversation_report(c, scope))
    names = await _names(services, org_id, query.by, spaces)
    report = _report(scope, query, rows, names)
    if _wants_csv(query):
        return _csv_reply(report)
    return jsonify(report)


def _window(query: ReportQuery, time_zone: str) -> tuple[date, date]:
    last_day = query.last_day or datetime.now(UTC).astimezone(ZoneInfo(time_zone)).date()
    first_day = query.first_day or last_day - timedelta(days=DEFAULT_REPORT_DAYS - 1)
    if first_day > last_day:
        raise FieldInvalidError("from", "`from` must not be after `to`")
    if (last_day - first_day).days + 1 > MAX_REPORT_DAYS:
        raise FieldInvalidError("from", f"a report covers at most {MAX_REPORT_DAYS} days")
    return first_day, last_day


def _agent_filter(caller: Caller, wanted: UUID | None) -> str | None:
    """Whose conversations: any agent's (or all) for those who see all, else the caller's."""
    if supervises(caller.agent.role):
        return str(wanted) if wanted else None
    if wanted is not None and str(wanted) != caller.agent.id:
        raise ForbiddenError("agents see their own figures only")
    return caller.agent.id


async def _check_group_and_agent(
    services: Services, org_id: str, group_id: UUID | None, agent_id: str | None
) -> None:
    """Another organization's (or an unknown) group or agent is 404, like its space."""
    if group_id is not None:
        group = str(group_id)
        if await services.db.run(lambda c: group_queries.group_by_id(c, org_id, group)) is None:
            raise NotFoundError("no such group")
    if agent_id is not None:
        found = await services.db.run(lambda c: accounts.agent_by_id(c, org_id, agent_id))
        if found is None:
            raise NotFoundError("no such agent")


async def _names(
    services: Services, org_id: str, by: Dimension | None, spaces: dict[str, str]
) -> dict[str, str]:
    if by == "space":
        return spaces
    if by == "group":
        groups = await services.db.run(lambda c: group_queries.list_groups(c, org_id))
        return {g.id: g.name for g in groups}
    if by == "agent":
        agents = await services.db.run(lambda c: accounts.list_agents(c, org_id))
        return {a.id: a.name for a in agents}
    return {}


def _periods(scope: ReportScope) -> list[date]:
    """Every period's start in the window, so a chart shows the quiet days as zeros."""
    if scope.interval == "day":
        days = (scope.last_day - scope.first_day).days + 1
        return [scope.first_day + timedelta(days=n) for n in range(days)]
    monday = scope.first_day - timedelta(days=scope.first_day.weekday())
    weeks = (scope.last_day - monday).days // 7 + 1
    return [monday + timedelta(weeks=n) for n in range(weeks)]


def _report(
    scope: ReportScope, query: ReportQuery, rows: ReportRows, names: dict[str, str]
) -> dict[str, Any]:
    periods = [
        {"start": max(start, scope.first_day).isoformat(), **finish(rows.periods.get(start, {}))}
        for start in _periods(scope)
    ]
    breakdown = [
        {"key": key, "name": names.get(key) if key else None, **finish(figures)}
        for key, figures in rows.breakdown.items()
    ]
    breakdown.sort(key=lambda r: (-r["opened"], -r["closed"], r["name"] or "", r["key"] or ""))
    return {
        "from": scope.first_day.isoformat(),
        "to": scope.last_day.isoformat(),
        "interval": scope.interval,
        "time_zone": scope.time_zone,
        "space_id": query.space_id and str(query.space_id),
        "group_id": scope.group_id,
        "agent_id": scope.agent_id,
        "by": scope.by,
        "total": finish(rows.total),
        "periods": periods,
        "breakdown": breakdown,
    }


def _wants_csv(query: ReportQuery) -> bool:
    if query.format is not None:
        return query.format == "csv"
    best = request.accept_mimetypes.best_match(["application/json", CSV_MEDIA])
    return best == CSV_MEDIA


def _csv_reply(report: dict[str, Any]) -> Response:
    """With `by`: a row per space, group or agent; otherwise a row per period. Then the window's
    total. Figures as in the JSON; an empty cell for a time nothing measured."""
    out = io.StringIO()
    writer = csv.writer(out)
    if report["by"]:
        dimension = report["by"]
        writer.writerow([f"{dimension}_id", "name", *FIGURES])
        for row in report["breakdown"]:
            writer.writerow([row["key"] or "", _cell(row["name"]), *_figures(row)])
        writer.writerow(["total", "", *_figures(report["total"])])
    else:
        writer.writerow(["period_start", *FIGURES])
        for row in report["periods"]:
            writer.writerow([row["start"], *_figures(row)])
        writer.writerow(["total", *_figures(report["total"])])
    name = f"conversations-{report['from']}-{report['to']}.csv"
    reply = Response(out.getvalue(), mimetype=CSV_MEDIA, content_type=f"{CSV_MEDIA}; charset=utf-8")
    reply.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    reply.headers["Cache-Control"] = "no-store"
    return reply


def _figures(row: dict[str, Any]) -> list[Any]:
    return ["" if row[name] is None else row[name] for name in FIGURES]


def _cell(value: str | None) -> str:
    """A name starting like a formula is quoted, so a spreadsheet never runs it (as the export)."""
    if value and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value or ""
