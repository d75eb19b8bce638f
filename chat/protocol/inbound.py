"""Inbound WebSocket frames: one typed model per frame kind, validated at the edge.

A frame is parsed into its union (`VisitorFrame`, `AgentFrame`); each session dispatches on the
union and closes its `match` with `typing.assert_never`, so a new frame kind without a handler
fails type checking.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from chat.errors import InvalidError, TooLongError
from chat.ids import check_stream_id

MAX_CONTENT_CHARS = 4000
MAX_NAME_CHARS = 120
# Quick replies (structures.md, "Quick replies"): a few short buttons under one message.
MAX_QUICK_REPLIES = 8
MAX_QUICK_REPLY_CHARS = 40
# A rating's comment: a sentence or two; longer feedback is a message.
MAX_RATING_COMMENT_CHARS = 1000
# A signed identity token: a JWT with a name, an email and up to 8 KB of attributes fits.
MAX_IDENTITY_TOKEN_CHARS = 16 * 1024

# Explicit bidi embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI):
# an override can make text read differently from what it is (a name ending in "txt.exe"
# reversed). Chat text never needs them (the implicit marks U+200E/U+200F and the apps'
# `dir="auto"` suffice), so they are removed from names and message content alike.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(text: str) -> str:
    """`text` with every explicit bidi embedding, override and isolate removed."""
    return _BIDI_CONTROLS.sub("", text)


def is_blank(text: str) -> bool:
    """True when nothing in `text` would show: only whitespace and format characters (Unicode
    category Cf: zero-width spaces and joiners, bidi marks, the BOM, soft hyphens...)."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


def clean_name(name: str) -> str:
    """A display name without bidi controls, trimmed; "" when nothing visible is left."""
    text = without_bidi_controls(name).strip()
    return "" if is_blank(text) else text


def _required_name(name: str) -> str:
    text = clean_name(name)
    if not text:
        raise ValueError("the name has no visible characters")
    return text


# A name given by a client (REST bodies): trimmed, bidi controls removed, 1..120 characters,
# and not only invisible ones.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS),
    AfterValidator(_required_name),
]


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
    content: str = Field(default="", max_length=64 * 1024)
    # An uploaded file of this visitor's (POST /widget/{key}/attachments); the content may then
    # be empty (the file's name stands for it).
    attachment_id: Uuid | None = None
    # False: a message that opens a conversation starts a new one even if the visitor's last
    # one closed within the reopen window (the widget's "Start a new conversation").
    reopen: bool = True
    # The group the visitor picked in the pre-chat form (structures.md, "Routing"): used when
    # this message opens a conversation, in a space with visitor_picks_group; else ignored.
    group_id: Uuid | None = None


class VisitorTyping(_Frame):
    type: Literal["typing"]
    active: bool
    # The draft, sent by the widget only when its space has `typing_preview` on; cut to 500
    # characters and shown to agents only then (chat/actors/preview.py).
    draft: str | None = Field(default=None, max_length=MAX_CONTENT_CHARS)


class Identify(_Frame):
    type: Literal["identify"]
    # Cleaned as REST names are; a name with nothing visible left is "" (ignored).
    name: Annotated[str, Field(max_length=MAX_NAME_CHARS), AfterValidator(clean_name)] | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    # Sent by the widget's offline form: with an email, and nobody able to answer live, it
    # leaves a lead (structures.md, "Email"). A host page's own identify never does.
    offline: bool = False
    # The host page's attributes (ChatWidget.identify), replacing the visitor's set; scalar
    # values only, bounded by chat/protocol/context.py (too_long past a bound).
    attributes: dict[str, str | int | float | bool | None] | None = None
    # A signed identity (structures.md, "Signed visitor identity"): a JWT the host site's backend
    # signed with the space's identity secret. It alone says who the visitor is, so it comes
    # without the fields above.
    token: str | None = Field(default=None, min_length=1, max_length=MAX_IDENTITY_TOKEN_CHARS)

    @model_validator(mode="after")
    def _token_alone(self) -> Identify:
        unsigned = (self.name, self.email, self.attributes)
        if self.token is not None and (self.offline or any(v is not None for v in unsigned)):
            raise ValueError("a token comes alone: its claims carry name, email and attributes")
        return self


class Page(_Frame):
    type: Literal["page"]
    url: str = Field(max_length=2048)
    title: str | None = Field(default=None, max_length=300)
    # The browser's language and IANA time zone (structures.md, "Visitor context").
    locale: str | None = Field(default=None, max_length=35, pattern=r"^[A-Za-z0-9-]+$")
    timezone: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")


class VisitorRead(_Frame):
    """The visitor has seen the thread up to `id` (the widget open, the message visible)."""

    type: Literal["read"]
    id: StreamIdText


class Rate(_Frame):
    """The visitor rates their finished conversation (structures.md, "Ratings")."""

    type: Literal["rate"]
    client_id: ClientId
    thread_id: Uuid
    score: Literal["good", "bad"]
    # Optional; trimmed, bidi controls removed, blank is none (chat/actors/visitor_rating.py).
    comment: str | None = Field(default=None, max_length=MAX_RATING_COMMENT_CHARS)


class Ping(_Frame):
    type: Literal["ping"]


VisitorFrame = SendMessage | VisitorTyping | Identify | Page | VisitorRead | Rate | Ping


class Auth(_Frame):
    type: Literal["auth"]
    token: str = Field(max_length=4096)


class Subscribe(_Frame):
    type: Literal["subscribe"]
    space_id: Uuid
    cursor: StreamIdText | None = None


class QuickReplyIn(_Frame):
    # A label is sent back as the visitor's message when pressed: one short line.
    label: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUICK_REPLY_CHARS),
        AfterValidator(_required_name),
    ]


# The buttons under an agent's (a bot's) message (structures.md, "Quick replies"): at most
# MAX_QUICK_REPLIES, so they fit the widget's width in two or three rows.
QuickReplies = Annotated[list[QuickReplyIn], Field(min_length=1, max_length=MAX_QUICK_REPLIES)]


class AgentSendMessage(_Frame):
    type: Literal["message"]
    thread_id: Uuid
    client_id: ClientId
    content: str = Field(default="", max_length=64 * 1024)
    # An uploaded file of this thread's (POST /threads/{id}/attachments).
    attachment_id: Uuid | None = None
    # Buttons offered to the visitor under this message (a bot's questions, mostly).
    quick_replies: QuickReplies | None = None


class Claim(_Frame):
    type: Literal["claim"]
    thread_id: Uuid


class Close(_Frame):
    type: Literal["close"]
    thread_id: Uuid


class Transfer(_Frame):
    type: Literal["transfer"]
    thread_id: Uuid
    agent_id: Uuid
    # Supervisors and admins only: past the target's availability and capacity (`forbidden`
    # for agents).
    force: bool = False


class Handover(_Frame):
    """A bot hands the conversation it holds to people (structures.md, "Bots"); a supervisor
    may hand over any bot's. `reason`: the bot's note to whoever takes over."""

    type: Literal["handover"]
    thread_id: Uuid
    reason: str = Field(default="", max_length=500)


class Reopen(_Frame):
    """Reopen a closed or expired conversation; the agent holds it from then on."""

    type: Literal["reopen"]
    thread_id: Uuid


# The frames that act on a thread: their errors carry `ref` and `thread_id`.
ThreadAction = Claim | Close | Transfer | Reopen


class AgentTyping(_Frame):
    type: Literal["typing"]
    thread_id: Uuid
    active: bool


class Viewing(_Frame):
    """The conversation the agent has open in its console now; None: none."""

    type: Literal["viewing"]
    thread_id: Uuid | None = None


class MarkRead(_Frame):
    """The agent has read the thread up to `id` (None: all of it)."""

    type: Literal["read"]
    thread_id: Uuid
    id: StreamIdText | None = None


class Heartbeat(_Frame):
    type: Literal["heartbeat"]


class AddNote(_Frame):
    """A private note in a conversation (structures.md, "Private notes"): acked like a message,
    with `ref: note`."""

    type: Literal["note"]
    thread_id: Uuid
    client_id: ClientId
    content: str = Field(max_length=64 * 1024)


class Whisper(_Frame):
    """A supervisor's note to the agent holding a conversation (structures.md, "Roles and
    supervisors"): acked like a note, with `ref: whisper`."""

    type: Literal["whisper"]
    thread_id: Uuid
    client_id: ClientId
    content: str = Field(max_length=64 * 1024)


class TagThread(_Frame):
    """Put a tag on (`tag`) or take it off (`untag`) a conversation."""

    type: Literal["tag", "untag"]
    thread_id: Uuid
    tag_id: Uuid


class FloorSubscribe(_Frame):
    """Watch the organization's live floor (supervisors and admins; structures.md, "The floor
    view"): answered by `floor` frames, the whole floor each, until unsubscribed."""

    type: Literal["floor.subscribe"]


class FloorUnsubscribe(_Frame):
    type: Literal["floor.unsubscribe"]


AgentFrame = (
    Auth
    | Subscribe
    | AgentSendMessage
    | Claim
    | Close
    | Transfer
    | Handover
    | Reopen
    | AgentTyping
    | Viewing
    | MarkRead
    | Heartbeat
    | Ping
    | AddNote
    | Whisper
    | TagThread
    | FloorSubscribe
    | FloorUnsubscribe
)

_VISITOR_FRAMES: TypeAdapter[VisitorFrame] = TypeAdapter(
    Annotated[VisitorFrame, Field(discriminator="type")]
)
_AGENT_FRAMES: TypeAdapter[AgentFrame] = TypeAdapter(
    Annotated[AgentFrame, Field(discriminator="type")]
)


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


# The heartbeat as the widget and the console send it (JSON.stringify({type: "ping"})): at
# 10,000 idle sockets 400 a second, answered without the validator (issue 19; a ping spelled
# otherwise takes the validator's way to the same frame).
PING_TEXT = '{"type":"ping"}'
_PING_BYTES = PING_TEXT.encode()
_PING = Ping(type="ping")


def _parse(adapter: TypeAdapter[Any], text: str | bytes) -> Any:
    if len(text) == len(PING_TEXT) and (
        text == PING_TEXT if isinstance(text, str) else text == _PING_BYTES
    ):
        return _PING
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
    """A widget's frame; InvalidError (with where and why) for anything else."""
    frame: VisitorFrame = _parse(_VISITOR_FRAMES, text)
    return frame


def parse_agent_frame(text: str | bytes) -> AgentFrame:
    """An agent's frame; InvalidError (with where and why) for anything else."""
    frame: AgentFrame = _parse(_AGENT_FRAMES, text)
    return frame


def check_content(content: str) -> str:
    """Trimmed message text of 1..4000 characters, bidi controls removed; content with nothing
    visible (whitespace and format characters only, e.g. zero-width spaces) is empty."""
    text = without_bidi_controls(content).strip()
    if is_blank(text):
        raise InvalidError("content is empty")
    if len(text) > MAX_CONTENT_CHARS:
        raise TooLongError(f"content is longer than {MAX_CONTENT_CHARS} characters")
    return text
