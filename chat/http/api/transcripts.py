"""Transcripts of one conversation (for its agents, and for its visitor with their session
token) and the admins' streamed export of an organization's conversations (structures.md,
"Transcripts and export").

A transcript reads messages only: private notes live elsewhere (their own table and log kind),
so no transcript can carry one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field
from quart import Response, request

from chat import thread_history
from chat.auth.rotation import check_session_token_any
from chat.db import export_queries, lifecycle_queries
from chat.errors import InvalidError, NotFoundError, UnauthorizedError
from chat.http.api.threads import thread_with_visitor
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.replies import Message, ThreadWithVisitor
from chat.json_types import Json
from chat.services import Services

# A transcript is built in memory (one conversation); past this many messages it is cut, and
# says so. A live chat rarely passes a few hundred.
MAX_TRANSCRIPT_MESSAGES = 20_000
HISTORY_PAGE = 500
# The export reads this many conversations (and their messages) per PostgreSQL round trip: the
# memory held at once is one page, whatever the organization's size.
EXPORT_PAGE = 200
CSV_COLUMNS = (
    "thread_id",
    "space_id",
    "visitor_id",
    "visitor_name",
    "visitor_email",
    "status",
    "thread_created_at",
    "message_id",
    "sender_type",
    "sender_name",
    "content",
    "created_at",
)

routes = Routes(tag="transcripts", api_keys=True)


class TranscriptQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    format: Literal["txt", "json"] = Field(default="txt", description="Plain text or JSON")
    session: str | None = Field(
        default=None,
        max_length=200,
        description="The visitor route only: the session token, for a plain download link"
        " (the widget socket's URL carries it the same way); the Authorization header also works",
    )


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    format: Literal["csv", "jsonl"] = Field(
        default="jsonl", description="CSV (a row per message) or JSON lines (a line per thread)"
    )
    since: datetime | None = Field(default=None, description="Threads created at or after")
    until: datetime | None = Field(default=None, description="Threads created before")


class Transcript(BaseModel):
    model_config = ConfigDict(frozen=True)
    thread: ThreadWithVisitor
    messages: list[Message] = Field(description="Oldest first; notes are never included")
    truncated: bool = Field(description="True when cut at 20000 messages")


@routes.route(
    "GET",
    "/threads/<uuid:thread_id>/transcript",
    summary="Download a conversation as text or JSON",
    query=TranscriptQuery,
    reply=Transcript,
    text_reply=("text/plain",),
)
async def agent_transcript(
    services: Services, caller: Caller, thread_id: Any, query: TranscriptQuery
) -> Response:
    """An attachment (Content-Disposition): `format=txt` (text/plain) or `json` (the schema
    shown). Any agent of the organization; another organization's thread is 404."""
    thread = await thread_with_visitor(services, caller, str(thread_id))
    return await _transcript_reply(services, thread, query.format, for_visitor=False)


@routes.route(
    "GET",
    "/widget/<widget_key>/threads/<uuid:thread_id>/transcript",
    summary="The visitor downloads their conversation as text or JSON",
    auth="token",
    query=TranscriptQuery,
    reply=Transcript,
    text_reply=("text/plain",),
)
async def visitor_transcript(
    services: Services, widget_key: str, thread_id: Any, query: TranscriptQuery
) -> Response:
    """`Authorization: Bearer <session token>` (the widget's), or `session=<token>` so the
    widget can offer a plain link (no CORS preflight; the attachment downloads). Only the
    visitor's own thread of that space, not deleted; anything else is 404. The visitor's copy
    leaves agents' ids out."""
    space = await services.spaces.space_by_widget_key(widget_key)
    if space is None:
        raise NotFoundError("unknown widget key")
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    token = token or query.session or ""
    visitor_id, _ = check_session_token_any(services.settings.verifying_keys, space.id, token)
    if visitor_id is None:
        raise UnauthorizedError("a valid session token is required")
    wanted = str(thread_id)
    await check_visitor_thread(services, space.id, visitor_id, wanted)
    thread: Json = {"id": wanted, "space_id": space.id, "visitor_id": visitor_id}
    return await _transcript_reply(services, thread, query.format, for_visitor=True)


async def check_visitor_thread(
    services: Services, space_id: str, visitor_id: str, thread_id: str
) -> None:
    """NotFoundError unless the thread is the visitor's, of that space, and not deleted (also
    the emailed transcript's check, chat/http/api/transcript_mail.py)."""
    owner = await services.db.run(lambda c: lifecycle_queries.thread_owner(c, thread_id))
    if owner is None:
        state = await services.stream_log.thread_state(space_id, thread_id)
        owner = (space_id, state.visitor_id, False) if state else None
    if owner is None or owner != (space_id, visitor_id, False):
        raise NotFoundError("no such thread")


async def _transcript_reply(
    services: Services, thread: Json, fmt: str, *, for_visitor: bool
) -> Response:
    messages, truncated = await all_messages(services, str(thread["space_id"]), str(thread["id"]))
    if for_visitor:
        messages = [{k: v for k, v in m.items() if k != "sender_id"} for m in messages]
    name = f"transcript-{thread['id']}.{fmt}"
    if fmt == "json":
        body = orjson.dumps({"thread": thread, "messages": messages, "truncated": truncated})
        return _attachment(body, "application/json", name)
    lines = [f"Conversation {thread['id']}"]
    if created := thread.get("created_at"):
        lines.append(f"Started {created}")
    lines.append("")
    for m in messages:
        lines.append(f"[{m['created_at']}] {m['sender_name']}: {m['content']}")
    if truncated:
        lines.append(f"(cut at {MAX_TRANSCRIPT_MESSAGES} messages)")
    return _attachment(("\n".join(lines) + "\n").encode(), "text/plain; charset=utf-8", name)


async def all_messages(
    services: Services, space_id: str, thread_id: str
) -> tuple[list[Json], bool]:
    """Every message, PostgreSQL's rows joined with the log's tail (none twice), oldest first;
    True when cut at MAX_TRANSCRIPT_MESSAGES. Messages only: notes are never among them."""
    found: list[Json] = []
    before: str | None = None
    while len(found) < MAX_TRANSCRIPT_MESSAGES:
        page = await thread_history.messages_before(
            services.stream_log, services.db, space_id, thread_id, before, HISTORY_PAGE
        )
        found[:0] = page
        if len(page) < HISTORY_PAGE:
            return found, False
        before = page[0]["id"]
    return found[-MAX_TRANSCRIPT_MESSAGES:], True


def _attachment(body: bytes, media: str, filename: str) -> Response:
    reply = Response(body, mimetype=media.split(";")[0], content_type=media)
    reply.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    reply.headers["Cache-Control"] = "no-store"  # a conversation is private
    return reply


@routes.route(
    "GET",
    "/organization/export",
    summary="Stream the organization's conversations as CSV or JSON lines",
    auth="admin",
    query=ExportQuery,
    errors=(400,),
)
async def export_conversations(services: Services, caller: Caller, query: ExportQuery) -> Response:
    """Threads created in [since, until) of the organization's live spaces, oldest first,
    soft-deleted ones left out. Streamed: PostgreSQL is read 200 conversations at a time, and
    each page is written out before the next is read. `jsonl`: one thread (with its visitor and
    messages) per line; `csv`: one row per message."""
    if query.since and query.until and query.since >= query.until:
        raise InvalidError("since must be before until")
    org = caller.agent.organization_id
    media = "text/csv" if query.format == "csv" else "application/x-ndjson"
    reply = Response(_export(services, org, query), mimetype=media)
    reply.headers["Content-Disposition"] = f'attachment; filename="conversations.{query.format}"'
    reply.headers["Cache-Control"] = "no-store"
    return reply


async def _export(services: Services, org: str, query: ExportQuery) -> AsyncIterator[bytes]:
    if query.format == "csv":
        yield _csv_row(CSV_COLUMNS)
    after: tuple[datetime, str] | None = None
    while True:
        page = await services.db.run(
            lambda c: _page(c, org, query.since, query.until, after)  # noqa: B023
        )
        threads, messages = page
        for thread in threads:
            created = thread.pop("_created")
            after = (created, thread["id"])
            yield _render(thread, messages[thread["id"]], query.format)
        if len(threads) < EXPORT_PAGE:
            return


def _page(
    conn: Any,
    org: str,
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, str] | None,
) -> tuple[list[Json], dict[str, list[Json]]]:
    """One page of threads and their messages, read in one transaction (one snapshot)."""
    threads = export_queries.threads_page(conn, org, since, until, after, EXPORT_PAGE)
    return threads, export_queries.messages_of(conn, [t["id"] for t in threads])


def _render(thread: Json, messages: list[Json], fmt: str) -> bytes:
    if fmt == "jsonl":
        return orjson.dumps({**thread, "messages": messages}) + b"\n"
    visitor = thread["visitor"]
    head = (
        thread["id"],
        thread["space_id"],
        thread["visitor_id"],
        visitor["name"] or "",
        visitor["email"] or "",
        thread["status"],
        thread["created_at"],
    )
    rows = [
        _csv_row(
            (*head, m["id"], m["sender_type"], m["sender_name"], m["content"], m["created_at"])
        )
        for m in messages
    ]
    return b"".join(rows)


def _csv_row(values: tuple[Any, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow([_cell(v) for v in values])
    return out.getvalue().encode()


def _cell(value: Any) -> Any:
    """A visitor's text starting like a formula is quoted, so a spreadsheet never runs it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
