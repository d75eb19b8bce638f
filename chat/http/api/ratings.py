"""Visitors' ratings, for agents (structures.md, "Ratings"): a conversation's rating, and the
report per space and per agent. Visitors rate over the widget socket (`rate` frame,
chat/actors/visitor_rating.py); no visitor route reads ratings.

The query model and reply shapes live here rather than in bodies.py and replies.py: they serve
these routes only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from quart import Response, jsonify

from chat.db import rating_queries
from chat.errors import InvalidError, NotFoundError
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.sign_in_copy import org_spaces
from chat.services import Services

routes = Routes(tag="ratings", api_keys=True)

# A report without `from` covers this many days before `to` (or now).
DEFAULT_REPORT_DAYS = 30
# The longest window one report may cover (the query scans the window's rows).
MAX_REPORT_DAYS = 366


class RatingsQuery(BaseModel):
    # Unknown query keys are ignored, as on every list route (chat/http/bodies.py, _Query).
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    space_id: UUID | None = Field(
        default=None, description="One space of the organization; absent: all its live spaces"
    )
    since: AwareDatetime | None = Field(
        default=None,
        alias="from",
        description=f"Start (inclusive, RFC 3339); default {DEFAULT_REPORT_DAYS} days before `to`",
    )
    until: AwareDatetime | None = Field(
        default=None, alias="to", description="End (exclusive, RFC 3339); default now"
    )


class Counts(BaseModel):
    model_config = ConfigDict(frozen=True)
    total: int
    good: int
    bad: int
    share_good: float | None = Field(description="good / total, 0..1; null when total is 0")


class AgentCounts(Counts):
    agent_id: UUID | None = Field(description="null: conversations nobody had claimed")
    name: str | None


class SpaceCounts(Counts):
    space_id: UUID


class RatingsReport(Counts):
    space_id: UUID | None
    from_: datetime = Field(alias="from")
    to: datetime
    agents: list[AgentCounts] = Field(description="Most rated first")
    spaces: list[SpaceCounts] = Field(description="Most rated first")


class Rating(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str = Field(description="The `rated` entry's id")
    thread_id: UUID
    visitor_id: UUID
    agent_id: UUID | None = Field(description="Who held the conversation when it finished")
    score: Literal["good", "bad"]
    comment: str | None
    created_at: datetime


async def _space_ids(services: Services, caller: Caller, space_id: UUID | None) -> list[str]:
    """The organization's live spaces, or the one asked for: another organization's is 404."""
    spaces = [s.id for s in await org_spaces(services, caller.agent.organization_id)]
    if space_id is None:
        return spaces
    if str(space_id) not in spaces:
        raise NotFoundError("no such space")
    return [str(space_id)]


def _window(query: RatingsQuery) -> tuple[datetime, datetime]:
    until = query.until or datetime.now(UTC)
    since = query.since or until - timedelta(days=DEFAULT_REPORT_DAYS)
    if since >= until:
        raise InvalidError("`from` must be before `to`", field="from")
    if until - since > timedelta(days=MAX_REPORT_DAYS):
        raise InvalidError(f"a report covers at most {MAX_REPORT_DAYS} days", field="from")
    return since, until


@routes.route(
    "GET",
    "/reports/ratings",
    summary="Visitors' ratings: counts and share good, overall, per space and per agent",
    query=RatingsQuery,
    reply=RatingsReport,
    errors=(400, 404),
)
async def ratings_report(services: Services, caller: Caller, query: RatingsQuery) -> Response:
    """Ratings given in [from, to), as projected to PostgreSQL. An agent is the one who held
    the conversation when it finished. Another organization's space: 404 not_found."""
    spaces = await _space_ids(services, caller, query.space_id)
    since, until = _window(query)
    report = await services.db.run(lambda c: rating_queries.ratings_report(c, spaces, since, until))
    window = {"from": since.isoformat(), "to": until.isoformat()}
    return jsonify({**report, "space_id": query.space_id and str(query.space_id), **window})


@routes.route(
    "GET",
    "/threads/<uuid:thread_id>/rating",
    summary="A conversation's rating by its visitor",
    reply=Rating,
    errors=(404,),
)
async def thread_rating(services: Services, caller: Caller, thread_id: Any) -> Response:
    """404 not_found when the conversation has no rating (yet: a rating shows here once
    projected; the console gets it live as a `rating` frame), or is another organization's."""
    spaces = await _space_ids(services, caller, None)
    found = await services.db.run(lambda c: rating_queries.thread_rating(c, spaces, str(thread_id)))
    if found is None:
        raise NotFoundError("no rating")
    return jsonify(found)
