"""Tags in a space's thread list (chat/http/api/spaces.py): the `tag` filter checked against
the caller's organization, and each listed conversation's tag ids (structures.md, "Tags")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from chat.commands.notes import TAG_NOT_FOUND
from chat.db import tag_queries
from chat.errors import NotFoundError
from chat.http.auth import Caller
from chat.services import Services


async def with_tag(services: Services, caller: Caller, tag: UUID | None) -> str | None:
    """The filter's tag id; NotFoundError for another organization's (or an unknown) tag, so a
    filter cannot probe another organization's tag ids."""
    if tag is None:
        return None
    org = caller.agent.organization_id
    if await services.db.run(lambda c: tag_queries.tag_by_id(c, org, str(tag))) is None:
        raise NotFoundError(TAG_NOT_FOUND)
    return str(tag)


async def with_tag_ids(services: Services, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` each with `tag_ids`, as projected (a thread not projected yet has none). One
    query for the page."""
    if not rows:
        return rows
    ids = [str(r["id"]) for r in rows]
    found = await services.db.run(lambda c: tag_queries.tags_of_threads(c, ids))
    return [{**r, "tag_ids": found.get(str(r["id"]), [])} for r in rows]
