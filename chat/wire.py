"""WebSocket frames: typed inbound frames (validated here), outbound frames built from the log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from chat.errors import ChatError, InvalidError, TooLongError
from chat.events import LogEntry, MessagePosted, ThreadSnapshot, VisitorInfo
from chat.ids import check_stream_id, entry_time, ms_to_rfc3339
from chat.json_types import Json

MAX_CONTENT_CHARS = 4000
MAX_NAME_CHARS = 120

# An outbound frame: a dict, or its text when it was encoded once for several sessions.
Frame = Json | str


class _Frame(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
StreamIdText = Annotated[
    str, Field(pattern=r"^\d{1,20}-\d{1,20}$"), AfterValidator(check_stream_id)
]
Uuid = Annotated[str, Field(pattern=r"^[0-9a-fA-F-]{36}$")]


class SendMessage(_Frame):
    type: Literal["message"]
    client_id: ClientId
    content: str = Field(max_length=64 * 1024)


class VisitorTyping(_Frame):
    type: Literal["typing"]
    active: bool


class Identify(_Frame):
    type: Literal["identify"]
    name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class Page(_Frame):
    type: Literal["page"]
    url: str = Field(max_length=2048)
    title: str | None = Field(default=None, max_length=300)


class Ping(_Frame):
    type: Literal["ping"]


VisitorFrame = Annotated[
    SendMessage | VisitorTyping | Identify | Page | Ping, Field(discriminator="type")
]


class Auth(_Frame):
    type: Literal["auth"]
    token: str = Field(max_length=4096)


class Subscribe(_Frame):
    type: Literal["subscribe"]
    space_id: Uuid
    cursor: StreamIdText | None = None


class AgentSendMessage(_Frame):
    type: Literal["message"]
    thread_id: Uuid
    client_id: ClientId
    content: str = Field(max_length=64 * 1024)


class ClaimOrClose(_Frame):
    type: Literal["claim", "close"]
    thread_id: Uuid


class Transfer(_Frame):
    type: Literal["transfer"]
    thread_id: Uuid
    agent_id: Uuid


class AgentTyping(_Frame):
    type: Literal["typing"]
    thread_id: Uuid
    active: bool


class Heartbeat(_Frame):
    type: Literal["heartbeat"]


AgentFrame = Annotated[
    Auth | Subscribe | AgentSendMessage | ClaimOrClose | Transfer | AgentTyping | Heartbeat | Ping,
    Field(discriminator="type"),
]

_VISITOR_FRAMES: TypeAdapter[VisitorFrame] = TypeAdapter(VisitorFrame)
_AGENT_FRAMES: TypeAdapter[AgentFrame] = TypeAdapter(AgentFrame)


NUL_REFUSED = "text may not contain NUL (U+0000) characters"


def contains_nul(value: Any) -> bool:
    """True when a string anywhere in `value` holds U+0000, which PostgreSQL text cannot store:
    refused at the edge, or an acked message would be dead-lettered by the projector."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False


def _parse(adapter: TypeAdapter[Any], text: str | bytes) -> Any:
    try:
        frame = adapter.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid frame", "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidError(f"invalid frame: {where} {first['msg']}".replace("  ", " ")) from exc
    # JSON can carry NUL only as the escape \u0000: walk the frame only when that is present.
    escape = "\\u0000"
    if (escape in text if isinstance(text, str) else escape.encode() in text) and contains_nul(
        frame.model_dump()
    ):
        raise InvalidError(NUL_REFUSED)
    return frame


def parse_visitor_frame(text: str | bytes) -> VisitorFrame:
    frame: VisitorFrame = _parse(_VISITOR_FRAMES, text)
    return frame


def parse_agent_frame(text: str | bytes) -> AgentFrame:
    frame: AgentFrame = _parse(_AGENT_FRAMES, text)
    return frame


def check_content(content: str) -> str:
    """Trimmed message text of 1..4000 characters."""
    text = content.strip()
    if not text:
        raise InvalidError("content is empty")
    if len(text) > MAX_CONTENT_CHARS:
        raise TooLongError(f"content is longer than {MAX_CONTENT_CHARS} characters")
    return text


def dumps(frame: Json) -> str:
    return orjson.dumps(frame).decode()


def encoded(entry: LogEntry, audience: str, build: Callable[[LogEntry], Json]) -> str:
    """The text of the frame `build` makes of `entry` for `audience` ("agent", "visitor"),
    encoded the first time a session of this process asks and reused by the others: the agents
    subscribed to a space all get the same frame, and profiles showed one dumps per session."""
    text = entry.frames.get(audience)
    if text is None:
        text = entry.frames[audience] = dumps(build(entry))
    return text


def thread_json(t: ThreadSnapshot) -> Json:
    return {
        "id": t.id,
        "space_id": t.space_id,
        "visitor_id": t.visitor_id,
        "assigned_agent_id": t.assigned_agent_id,
        "status": t.status,
        "last_activity_at": ms_to_rfc3339(t.last),
        "created_at": ms_to_rfc3339(t.created),
        "closed_at": ms_to_rfc3339(t.closed) if t.closed else None,
    }


def message_json(entry_id: str, m: MessagePosted) -> Json:
    return {
        "id": entry_id,
        "thread_id": m.thread_id,
        "sender_type": m.sender_type,
        "sender_id": m.sender_id,
        "sender_name": m.sender_name,
        "content": m.content,
        "client_id": m.client_id,
        "created_at": entry_time(entry_id),
    }


def message_frame(entry: LogEntry) -> Json:
    assert isinstance(entry.event, MessagePosted)
    return {"type": "message", **message_json(entry.id, entry.event)}


def error_frame(err: ChatError, client_id: str | None = None) -> Json:
    frame: Json = {"type": "error", "code": err.code, "message": err.message}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame


def visitor_json(space_id: str, visitor_id: str, info: VisitorInfo | None) -> Json:
    return {
        "id": visitor_id,
        "space_id": space_id,
        "name": info.name if info else None,
        "email": info.email if info else None,
        "current_url": info.current_url if info else None,
        "created_at": ms_to_rfc3339(info.created) if info and info.created else None,
    }
