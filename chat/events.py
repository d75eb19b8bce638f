"""The typed events of the log. One class per kind; an entry's `t` field names the kind.

The same events feed the wire (chat/protocol/outbound.py) and the projector
(chat/actors/projector.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)


class _Event(BaseModel):
    # Fields this version does not know are ignored, not refused: during a rolling upgrade a newer
    # process appends entries (and keeps hashes) with fields added after this version, and
    # refusing them would drop real messages. The versioning rule (structures.md, "Versioning of
    # log entries"): fields are only ever added, optional, never renamed or repurposed.
    # Inbound frames are still strict (chat/protocol/inbound.py): the edge where input is checked.
    model_config = ConfigDict(frozen=True, extra="ignore")


ThreadStatus = Literal["unassigned", "active", "closed", "expired"]
# A thread a visitor can still write in and agents still work on.
OPEN_THREAD_STATUSES: frozenset[ThreadStatus] = frozenset({"unassigned", "active"})


class ThreadSnapshot(_Event):
    """A thread's state as the Lua scripts keep it (times in epoch ms)."""

    id: str
    space_id: str
    visitor_id: str
    status: ThreadStatus
    assigned_agent_id: str | None = None
    created: int
    last: int
    closed: int | None = None
    # Added with the email channel (structures.md, "Email"): a conversation left offline, whose
    # agent replies also go to `email`. Absent on every other thread.
    channel: Literal["email"] | None = None
    email: str | None = None
    # Added with routing (structures.md, "Routing"): the group the conversation is routed in;
    # absent: the whole team.
    group_id: str | None = None
    # The holder's display name, for the visitor (added with routing).
    agent_name: str | None = None
    # Added with bots (structures.md, "Bots"): the bot that got the conversation first (it holds
    # it while assigned_agent_id is the same id), and when it left the bot (epoch ms).
    bot_agent_id: str | None = None
    handed_over: int | None = None


class VisitorInfo(_Event):
    id: str
    name: str | None = None
    email: str | None = None
    current_url: str | None = None
    created: int | None = None
    thread: str | None = None
    # Added with signed identity (structures.md, "Signed visitor identity"): a verified
    # visitor's user id on the site; absent for an anonymous one.
    external_id: str | None = None


class AttachmentRef(_Event):
    """The file a message carries (structures.md, "Attachments"): what the apps show before
    asking for a signed link to it. Its bytes are reached only through such a link."""

    id: str
    name: str
    content_type: str
    size: int


class QuickReply(_Event):
    """A button under a message (structures.md, "Quick replies"): pressing it sends `label` as
    the visitor's message. Bounded where it enters (chat/protocol/inbound.py QuickReplies)."""

    label: str


class MessagePosted(_Event):
    type: Literal["message"] = "message"
    thread_id: str
    sender_type: Literal["visitor", "agent", "system"]
    sender_id: str
    sender_name: str
    content: str
    client_id: str
    # Added with the email channel: a visitor message that came by email (or left offline), an
    # agent message that is also sent to the visitor's email.
    channel: Literal["email"] | None = None
    # Added with attachments: the uploaded file the message shows.
    attachment: AttachmentRef | None = None
    # Added with the built-in bot: the buttons offered under an agent's (or bot's) message;
    # absent (never an empty list) when there are none.
    quick_replies: tuple[QuickReply, ...] | None = None


class ThreadOpened(_Event):
    type: Literal["thread.opened"] = "thread.opened"
    thread: ThreadSnapshot
    visitor: VisitorInfo


ThreadChange = Literal[
    "thread.claimed",
    "thread.transferred",
    "thread.closed",
    "thread.expired",
    "thread.reopened",
    "thread.assigned",
    "thread.requeued",
    "thread.regrouped",
    "thread.handed_over",
]


class ThreadChanged(_Event):
    type: ThreadChange
    thread: ThreadSnapshot
    by: str | None = None
    # Added with idle close (structures.md, "Idle close"): why a thread closed by itself
    # ("idle"); with auto-transfer, why the router requeued it ("no_reply": its agent did not
    # answer in time); absent on every other change.
    # With bots, why a conversation left its bot on `thread.handed_over` (chat/streams/bots.py).
    reason: (
        Literal["idle", "no_reply", "requested", "visitor_asked", "unanswered", "bot_gone"] | None
    ) = None
    # Added with routing: on `thread.assigned` the agent the router chose and by which strategy;
    # on `thread.requeued` the agent the conversation was taken back from.
    agent_id: str | None = None
    strategy: str | None = None
    # Added with bots: on `thread.handed_over` the bot's note to whoever takes over (≤ 500).
    note: str | None = None


class Typing(_Event):
    type: Literal["typing"] = "typing"
    thread_id: str
    sender_type: Literal["visitor", "agent"]
    sender_id: str
    active: bool
    # Added with the typing preview (structures.md, "Typing preview"): the visitor's draft, only
    # when their space has `typing_preview` on; absent otherwise. Never projected.
    draft: str | None = None


class ThreadDeleted(_Event):
    """An admin soft-deleted (`thread.deleted`) or restored (`thread.restored`) a conversation
    (structures.md, "Deleting conversations and visitors"). Space stream only: the thread's own
    stream and state may have expired already; the projector sets or clears `deleted_at`."""

    type: Literal["thread.deleted", "thread.restored"]
    thread_id: str
    by: str


class Presence(_Event):
    type: Literal["presence"] = "presence"
    agent_id: str
    online: bool
    any_online: bool


class Viewers(_Event):
    """The agents who have a thread open in their console now (chat/streams/viewing.py): the
    whole list, so the latest entry is the state. Ephemeral, for agents only: never in a thread
    stream, never projected."""

    type: Literal["viewers"] = "viewers"
    space_id: str
    thread_id: str
    agent_ids: tuple[str, ...]


class VisitorUpdated(_Event):
    type: Literal["visitor.updated"] = "visitor.updated"
    visitor_id: str
    name: str | None = None
    email: str | None = None
    current_url: str | None = None
    created: int | None = None
    # Added with visitor context (structures.md, "Visitor context"): the page's title with
    # `current_url`; the browser's locale and time zone and, from its User-Agent, browser and OS;
    # the host page's attributes (unverified: any page script can set them), the whole set.
    page_title: str | None = None
    locale: str | None = None
    timezone: str | None = None
    browser: str | None = None
    os: str | None = None
    attributes: dict[str, str | int | float | bool | None] | None = None
    # Added with signed identity (structures.md, "Signed visitor identity"): set only by a
    # verified identify, the site's user id (the token's `sub`) the visitor is verified as.
    external_id: str | None = None


class NoteCreated(_Event):
    """An agent's private note in a conversation (structures.md, "Private notes"). Appended to
    the space stream only, never to the thread stream, and routed to no thread or visitor: the
    visitor paths read thread streams, thread routes and the `messages` table, so none of them
    can carry one."""

    type: Literal["note.created"] = "note.created"
    thread_id: str
    author_id: str
    author_name: str
    content: str
    client_id: str
    # A whisper (structures.md, "Roles and supervisors"): a supervisor's note to the agent
    # holding the conversation, delivered to that agent, its author and the organization's
    # supervisors and admins only. None: an ordinary note, every agent's. Added later, so
    # optional (the versioning rule).
    to_agent_id: str | None = None


class ThreadTagChanged(_Event):
    """A tag put on (`thread.tagged`) or taken off (`thread.untagged`) a conversation; for
    agents only, like notes (structures.md, "Tags")."""

    type: Literal["thread.tagged", "thread.untagged"]
    thread_id: str
    tag_id: str
    by: str


class ReadMarked(_Event):
    """A reader's marker in a thread moved to `message_id` (chat/streams/read_state.py). Space
    stream only; agents' other sockets follow it, the visitor hears an agent's as `seen`."""

    type: Literal["read"] = "read"
    thread_id: str
    reader_type: Literal["agent", "visitor"]
    reader_id: str
    message_id: str


class ThreadRated(_Event):
    """A visitor rated their finished conversation (structures.md, "Ratings"): once per thread,
    the first rating stays. Space stream only, never a thread stream, and routed to no visitor:
    agents (and the projector) see it, no other visitor path reads the space stream."""

    type: Literal["rated"] = "rated"
    thread_id: str
    visitor_id: str
    # The agent who held the conversation when it finished (None: nobody had claimed it).
    agent_id: str | None = None
    score: Literal["good", "bad"]
    comment: str | None = None
    client_id: str


Event = (
    MessagePosted
    | ThreadOpened
    | ThreadChanged
    | Typing
    | Presence
    | VisitorUpdated
    | Viewers
    | NoteCreated
    | ThreadTagChanged
    | ReadMarked
    | ThreadDeleted
    | ThreadRated
)

_KINDS: dict[str, type[_Event]] = {
    "message": MessagePosted,
    "thread.opened": ThreadOpened,
    "thread.claimed": ThreadChanged,
    "thread.transferred": ThreadChanged,
    "thread.closed": ThreadChanged,
    "thread.expired": ThreadChanged,
    "thread.reopened": ThreadChanged,
    "thread.assigned": ThreadChanged,
    "thread.requeued": ThreadChanged,
    "thread.regrouped": ThreadChanged,
    "thread.handed_over": ThreadChanged,
    "typing": Typing,
    "presence": Presence,
    "visitor.updated": VisitorUpdated,
    "viewers": Viewers,
    "note.created": NoteCreated,
    "thread.tagged": ThreadTagChanged,
    "thread.untagged": ThreadTagChanged,
    "read": ReadMarked,
    "thread.deleted": ThreadDeleted,
    "thread.restored": ThreadDeleted,
    "rated": ThreadRated,
}


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One stream entry: its id (message id and cursor alike) and its event."""

    id: str
    event: Event
    # Outbound frames built from this entry, encoded once (chat.protocol.outbound.encoded): every
    # agent of a space, and every tab of a visitor, gets the same text for the same entry. Filled
    # lazily by the sessions of this process; never part of the entry's identity.
    frames: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def routes(self) -> tuple[str, ...]:
        """The routes a reader delivers this entry to, besides its space: thread and visitor."""
        match self.event:
            case MessagePosted() | Typing() | ReadMarked():
                return (self.event.thread_id,)
            case ThreadOpened():
                return (self.event.thread.id, visitor_route(self.event.visitor.id), QUEUE_ROUTE)
            case ThreadChanged(type="thread.reopened"):
                # Other tabs of the visitor follow it as they follow a thread it opened.
                thread = self.event.thread
                return (thread.id, visitor_route(thread.visitor_id), QUEUE_ROUTE)
            case ThreadChanged():
                return (self.event.thread.id, QUEUE_ROUTE)
            case VisitorUpdated():
                return (visitor_route(self.event.visitor_id),)
        return ()

    @property
    def thread_id(self) -> str | None:
        match self.event:
            case MessagePosted() | Typing() | ReadMarked():
                return self.event.thread_id
            case ThreadOpened() | ThreadChanged():
                return self.event.thread.id
        return None


# The route of every entry that may move a space's waiting queue (a thread opened, reopened,
# claimed, transferred, closed or expired): waiting visitors follow it to learn their place.
QUEUE_ROUTE = "queue"


def visitor_route(visitor_id: str) -> str:
    return "v:" + visitor_id


def parse_entry(entry_id: str, fields: dict[str, str]) -> LogEntry:
    """Decode a stream entry's `t` / `d` fields; ValueError for an unknown kind."""
    kind = fields.get("t", "")
    model = _KINDS.get(kind)
    if model is None:
        raise ValueError(f"unknown event kind {kind!r} in entry {entry_id}")
    if "d" not in fields:
        raise ValueError(f"entry {entry_id} has no data")
    data = orjson.loads(fields["d"])
    if not isinstance(data, dict):
        raise ValueError(f"entry {entry_id} data is not a JSON object")
    if model is ThreadChanged or model is ThreadTagChanged or model is ThreadDeleted:
        data["type"] = kind  # one class serves several kinds
    event = model.model_validate(data)
    return LogEntry(entry_id, event)  # type: ignore[arg-type]


def entry_from_stream(raw: Any) -> LogEntry:
    """A coredis StreamEntry (decoded responses) as a LogEntry; ValueError when undecodable."""
    return parse_entry(str(raw.identifier), {str(k): str(v) for k, v in raw.field_values.items()})


def decode_entries(raws: Iterable[Any]) -> list[LogEntry]:
    """Stream entries as LogEntries, skipping (and logging) any that cannot be decoded.

    Readers skip such an entry rather than fail: one stray entry someone added by hand must not
    end every session of its space. The projector dead-letters it instead (chat/streams/groups.py).
    """
    decoded = []
    for raw in raws:
        try:
            decoded.append(entry_from_stream(raw))
        except ValueError as exc:
            logger.warning("skipping undecodable entry %s: %s", raw.identifier, exc)
    return decoded
