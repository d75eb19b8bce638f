"""A visitor's rating of their finished conversation (structures.md, "Ratings"): the `rate`
frame's handler. The checks that matter (the thread is theirs, finished, not rated yet) are made
again by the append's script, atomically; the ones here only shape the answer and the entry."""

from __future__ import annotations

from typing import Protocol

import orjson

from chat.actors.frame_outbox import Outbox
from chat.actors.socket import SessionDeps
from chat.db.rows import SpaceRow
from chat.errors import ThreadNotFinishedError, ThreadNotFoundError
from chat.events import OPEN_THREAD_STATUSES, ThreadRated
from chat.json_types import Json
from chat.protocol.inbound import Rate, clean_name


class RatingSession(Protocol):
    """What of a visitor's session (chat/actors/visitor.py) a rating uses."""

    deps: SessionDeps
    space: SpaceRow
    visitor_id: str
    outbox: Outbox


def rating_comment(comment: str | None) -> str | None:
    """The comment as stored: trimmed, bidi controls removed; nothing visible is none."""
    if comment is None:
        return None
    return clean_name(comment) or None


async def handle_rate(session: RatingSession, frame: Rate) -> None:
    """Append the rating and answer `{"type":"ack","ref":"rate",...}`. Another visitor's thread,
    or one the log no longer holds, is not_found; an open one thread_open; a second rating
    already_rated (the same client_id again gets the first one's ack)."""
    space_id = session.space.id
    state = await session.deps.stream_log.thread_state(space_id, frame.thread_id)
    if state is None or state.visitor_id != session.visitor_id:
        raise ThreadNotFoundError("no such thread")
    if state.status in OPEN_THREAD_STATUSES:
        raise ThreadNotFinishedError()
    rating = ThreadRated(
        thread_id=frame.thread_id,
        visitor_id=session.visitor_id,
        agent_id=state.assigned_agent_id,
        score=frame.score,
        comment=rating_comment(frame.comment),
        client_id=frame.client_id,
    )
    ack = await session.deps.stream_log.ratings.do_rate(
        space_id,
        frame.thread_id,
        visitor_id=session.visitor_id,
        agent_id=state.assigned_agent_id,
        client_id=frame.client_id,
        data=orjson.dumps(rating.model_dump(exclude={"type"})).decode(),
    )
    reply: Json = {
        "type": "ack",
        "ref": "rate",
        "client_id": ack.client_id,
        "id": ack.id,
        "thread_id": ack.thread_id,
    }
    await session.outbox.send(reply)
