"""GET /search: full-text search over the caller's organization's messages or visitors
(structures.md, "Search"; the queries are chat/db/search_queries.py).

The query model and reply shapes live here rather than in bodies.py and replies.py: they serve
this one route.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator
from quart import Response, jsonify

from chat.db import search_queries
from chat.db.search_queries import MAX_QUERY_CHARS, MessageKey, VisitorKey
from chat.errors import InvalidError
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.replies import Message
from chat.ids import parse_id
from chat.protocol.inbound import NUL_REFUSED, is_blank
from chat.services import Services

routes = Routes(tag="search", api_keys=True)

MAX_PAGE = 50
_CURSOR_SEP = "|"


class SearchQuery(BaseModel):
    # Unknown query keys are ignored, as on every list route (chat/http/bodies.py, _Query).
    model_config = ConfigDict(extra="ignore", frozen=True)

    q: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description='Words to find, web-search style: `refund card`, `"exact phrase"`,'
        " `-excluded`, `a or b`. Messages match English word forms (refunds finds refund);"
        " visitors match names and emails by word prefix.",
    )
    kind: Literal["messages", "visitors"] = "messages"
    limit: int = Field(default=20, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(
        default=None, max_length=200, description="next_cursor of the previous page"
    )

    @field_validator("q")
    @classmethod
    def _searchable(cls, value: str) -> str:
        if "\x00" in value:  # PostgreSQL text cannot hold it
            raise ValueError(NUL_REFUSED)
        value = value.strip()
        if is_blank(value):
            raise ValueError("the query has no visible characters")
        return value


class Fragment(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str = Field(description="Plain text, never markup: render it as text")
    match: bool = Field(description="A word the query matched (the console marks it)")


Snippet = list[Fragment]
_SNIPPET_TEXT = (
    "The hit's text around its first match, cut into fragments in order; a fragment `…` marks"
    " a cut end"
)


class MessageHit(BaseModel):
    model_config = ConfigDict(frozen=True)
    message: Message
    space_id: UUID
    visitor_id: UUID | None = Field(description="The thread's visitor (null: not projected yet)")
    visitor_name: str | None
    rank: float = Field(description="ts_rank: higher is a better match")
    snippet: Snippet = Field(description=_SNIPPET_TEXT)


class FoundVisitor(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: UUID
    space_id: UUID
    name: str | None
    email: str | None
    current_url: str | None
    created_at: datetime


class VisitorHit(BaseModel):
    model_config = ConfigDict(frozen=True)
    visitor: FoundVisitor
    latest_thread_id: UUID | None = Field(description="The visitor's latest conversation")
    rank: float
    snippet: Snippet = Field(description=_SNIPPET_TEXT + ", over `name · email`")


class SearchPage(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["messages", "visitors"]
    items: list[MessageHit] | list[VisitorHit] = Field(description="Best match first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


@routes.route(
    "GET",
    "/search",
    summary="Search the organization's messages or visitors",
    query=SearchQuery,
    reply=SearchPage,
    errors=(400,),
)
async def search(services: Services, caller: Caller, query: SearchQuery) -> Response:
    """Only the caller's organization's live spaces are searched; private notes, system
    messages and deleted spaces never are. Messages are found once projected to PostgreSQL.
    Best match first (ts_rank), then newest; pages follow `next_cursor` (400 invalid for a
    cursor that is not one, or of another kind). 503 while PostgreSQL is down: search has no
    copy in the log."""
    org = caller.agent.organization_id
    text, limit = query.q, query.limit
    next_cursor: str | None
    if query.kind == "messages":
        after = _message_key(query.cursor)
        items, key = await services.db.run(
            lambda c: search_queries.search_messages(c, org, text, limit, after)
        )
        next_cursor = None if key is None else _message_cursor(key)
    else:
        visitor_after = _visitor_key(query.cursor)
        items, vkey = await services.db.run(
            lambda c: search_queries.search_visitors(c, org, text, limit, visitor_after)
        )
        next_cursor = None if vkey is None else _visitor_cursor(vkey)
    return jsonify({"kind": query.kind, "items": items, "next_cursor": next_cursor})


# Cursors: "m|<rank>|<message id>|<thread id>" and "v|<rank>|<visitor id>". The rank is the
# float4 PostgreSQL computed, written as the shortest text that reads back to the same value.
def _message_cursor(key: MessageKey) -> str:
    return _CURSOR_SEP.join(("m", repr(key.rank), f"{key.id_ms}-{key.id_seq}", key.thread_id))


def _visitor_cursor(key: VisitorKey) -> str:
    return _CURSOR_SEP.join(("v", repr(key.rank), key.visitor_id))


def _message_key(raw: str | None) -> MessageKey | None:
    if raw is None:
        return None
    parts = raw.split(_CURSOR_SEP)
    if len(parts) != 4 or parts[0] != "m":
        raise InvalidError("invalid cursor")
    try:
        id_ms, id_seq = parse_id(parts[2])
        return MessageKey(_rank(parts[1]), id_ms, id_seq, str(uuid.UUID(parts[3])))
    except ValueError as exc:
        raise InvalidError("invalid cursor") from exc


def _visitor_key(raw: str | None) -> VisitorKey | None:
    if raw is None:
        return None
    parts = raw.split(_CURSOR_SEP)
    if len(parts) != 3 or parts[0] != "v":
        raise InvalidError("invalid cursor")
    try:
        return VisitorKey(_rank(parts[1]), str(uuid.UUID(parts[2])))
    except ValueError as exc:
        raise InvalidError("invalid cursor") from exc


def _rank(text: str) -> float:
    rank = float(text)
    if not math.isfinite(rank) or rank < 0:
        raise ValueError("not a rank")
    return rank
