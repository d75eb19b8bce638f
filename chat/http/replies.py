"""The shapes the REST API answers with, for the OpenAPI document (contract: "Objects").

Handlers build plain JSON (chat/protocol/outbound.py); these models describe it, and the
schemathesis run in `make test` checks every answer against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from chat.auth.roles import Role
from chat.events import ThreadStatus
from chat.space_settings import SpaceSettings

MessageId = str


class _Reply(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorBody(_Reply):
    code: str = Field(description="snake_case, e.g. not_found, invalid, rate_limited")
    message: str
    details: Any = None


class ErrorReply(_Reply):
    error: ErrorBody


class Agent(_Reply):
    id: UUID
    organization_id: UUID
    email: str
    name: str
    role: Role = Field(description="agent, supervisor or admin (README, Roles)")
    is_online: bool
    last_seen_at: datetime | None
    accepting_chats: bool
    max_concurrent_chats: int
    active_chats: int | None = Field(
        default=None,
        description="Conversations the agent holds now, across the organization's spaces (its"
        " reserved slots: at most max_concurrent_chats); in GET /agents only",
    )
    created_at: datetime
    group_ids: list[UUID] = Field(description="The groups (departments) the agent belongs to")
    kind: Literal["human", "bot"] = Field(
        default="human",
        description="bot: a bot (README, Bots): no password, its own token, never counted online"
        " for the widget; its messages are sender_type agent",
    )


class Organization(_Reply):
    id: UUID
    name: str
    default_max_concurrent_chats: int = Field(
        description="The max_concurrent_chats of a new agent when its creator names none"
    )
    require_two_factor: bool = Field(
        description="Every agent signs in with a second factor (TOTP or a recovery code)"
    )
    created_at: datetime
    time_zone: str = Field(
        description="IANA zone (default UTC) in which reports cut days and weeks"
    )


class Tokens(_Reply):
    access_token: str
    refresh_token: str


class SignedIn(Tokens):
    agent: Agent


class Registered(SignedIn):
    organization: Organization


class AgentList(_Reply):
    items: list[Agent]


class Space(_Reply):
    id: UUID
    organization_id: UUID
    name: str
    widget_key: str
    allowed_domains: list[str]
    settings: SpaceSettings
    created_at: datetime


class SpaceList(_Reply):
    items: list[Space]


class Visitor(_Reply):
    id: UUID
    space_id: UUID
    name: str | None
    email: str | None
    current_url: str | None
    created_at: datetime | None


class Thread(_Reply):
    id: UUID
    space_id: UUID
    visitor_id: UUID
    assigned_agent_id: UUID | None
    status: ThreadStatus
    last_activity_at: datetime
    created_at: datetime
    closed_at: datetime | None
    channel: Literal["email"] | None = Field(
        default=None,
        description="Only on an email conversation (a message left offline): agent replies are"
        " also mailed to `email`, and the visitor's email replies join the thread",
    )
    email: str | None = Field(default=None, description="The visitor's email, with `channel`")
    group_id: UUID | None = Field(
        default=None,
        description="The group the conversation is routed in; null: the whole team",
    )
    tag_ids: list[UUID] = Field(
        default_factory=list,
        description="Its tags (in thread lists; as projected), by name",
    )
    deleted_at: datetime | None = Field(
        default=None, description="Only on a conversation an admin soft-deleted (restorable)"
    )
    bot_agent_id: UUID | None = Field(
        default=None,
        description="In the log's frames and replies: the bot that got the conversation first"
        " (README, Bots); its bot holds it while assigned_agent_id is the same",
    )


class ThreadWithVisitor(Thread):
    visitor: Visitor


class PageVisit(_Reply):
    url: str
    title: str | None
    at: datetime = Field(description="When the visitor's widget reported the page")


class VisitorContext(_Reply):
    """structures.md, "Visitor context"."""

    attributes: dict[str, str | int | float | bool | None] = Field(
        description="From the host page's ChatWidget.identify: unverified, any page script can"
        " set them"
    )
    verified: bool = Field(
        description="True when the visitor signed in on the site with a signed identity token"
        ' (structures.md, "Signed visitor identity"): then name and email come from that token;'
        " attributes remain the site's word either way"
    )
    external_id: str | None = Field(
        default=None, description="A verified visitor's user id on the site (the token's sub)"
    )
    locale: str | None
    timezone: str | None
    browser: str | None = Field(description="From the User-Agent, e.g. `Chrome 120`")
    os: str | None = Field(description="From the User-Agent, e.g. `Windows 10`")
    pages: list[PageVisit] = Field(description="Newest first, at most 50")


class VisitorDetail(_Reply):
    visitor: Visitor
    threads: list[Thread] = Field(description="Newest first, at most 20")
    context: VisitorContext


class ListedThread(Thread):
    unread: int = Field(
        description="The visitor's messages after the caller's read marker (structures.md,"
        ' "Read state"), read from the thread\'s stream (at most 500 entries past the marker)'
    )
    last_read_id: MessageId | None = Field(description="The caller's read marker; null: none")


class ThreadPage(_Reply):
    items: list[ListedThread]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class MessageAttachment(_Reply):
    id: UUID
    name: str
    content_type: str
    size: int


class MessageQuickReply(_Reply):
    label: str = Field(description="The button's text, sent as the visitor's message if pressed")


class Message(_Reply):
    id: MessageId = Field(pattern=r"^\d+-\d+$", description="The thread stream's entry id")
    thread_id: UUID
    sender_type: Literal["visitor", "agent", "system"]
    sender_id: str
    sender_name: str
    content: str
    client_id: str
    created_at: datetime
    attachment: MessageAttachment | None = Field(
        default=None,
        description="The file the message carries (absent: none); ask for a signed link to it",
    )
    quick_replies: list[MessageQuickReply] | None = Field(
        default=None,
        description="Buttons offered to the visitor under this message (absent: none)",
    )


class MessagePage(_Reply):
    items: list[Message] = Field(description="Oldest first")
    next_before: MessageId | None = Field(
        description="Pass as `before` for the older page; null when there is none"
    )


class WidgetSpace(_Reply):
    name: str
    settings: SpaceSettings


class WidgetGroup(_Reply):
    id: UUID
    name: str


class WidgetHours(_Reply):
    open: bool = Field(description="Within business hours at the time of the answer")
    away_message: str
    timezone: str = Field(description="The IANA time zone the hours are set in")
    intervals: list[tuple[int, int]] = Field(
        description="The open intervals of the next 8 days, [start, end) in UTC epoch ms; the"
        " widget flips to away and back at their bounds on its own timer"
    )


class WidgetTeamMember(_Reply):
    name: str = Field(description="The agent's display name; nothing else of an agent is public")
    avatar_url: str | None = Field(
        description="The agent's picture on this service (/api/v1/avatars/{id}, a random id), or"
        " null: the widget shows initials"
    )


class WidgetTeam(_Reply):
    members: list[WidgetTeamMember] = Field(
        description="Up to 3 agents: online ones first, then those who most recently held one of"
        " the space's conversations"
    )
    others: int = Field(description='How many more agents the team has ("and 2 others")')


class WidgetConfig(_Reply):
    space: WidgetSpace
    agents_online: bool
    groups: list[WidgetGroup] = Field(
        default_factory=list,
        description="The groups a visitor may pick in the pre-chat form, by name; empty unless"
        " the space's settings.visitor_picks_group is on",
    )
    team: WidgetTeam
    reply_time: Literal["minutes", "hour", "day"] | None = Field(
        description="The median first response of the space's latest conversations (7 days, at"
        " most 100), as a bucket: a few minutes (<= 10 min), within an hour, within a day; null"
        " without data or when slower than a day"
    )
    hours: WidgetHours | None = Field(
        default=None, description="The space's business hours; null: it has none (always open)"
    )
    transcript_email: bool = Field(
        default=False, description="A visitor may have their transcript emailed (SMTP is set)"
    )


class Group(_Reply):
    id: UUID
    organization_id: UUID
    name: str
    strategy: Literal["manual", "round_robin", "least_loaded"]
    sticky: bool
    auto_transfer_seconds: int | None = Field(
        description="A router-assigned conversation its agent has not answered within this many"
        " seconds goes to another eligible member; null: off"
    )
    agent_ids: list[UUID] = Field(description="Its members (live agents), oldest first")
    created_at: datetime
    bot_agent_id: UUID | None = Field(
        default=None,
        description="The bot that answers the group's new conversations first (README, Bots);"
        " null: none",
    )


class GroupList(_Reply):
    items: list[Group]


class InboundEmailAccepted(_Reply):
    """A visitor's emailed reply, stored as a message of its conversation."""

    id: MessageId = Field(description="The message's id (its stream entry id)")
    thread_id: UUID = Field(
        description="The conversation it joined: the replied-to one, or the visitor's open one"
    )
    created_at: datetime


class CannedResponse(_Reply):
    id: UUID
    organization_id: UUID
    scope: Literal["organization", "personal"] = Field(
        description="`organization`: offered to every agent, managed by admins; `personal`:"
        " the owner's alone"
    )
    owner_agent_id: UUID | None = Field(description="The owner of a personal one; null otherwise")
    shortcut: str = Field(pattern=r"^[a-z0-9_-]{1,32}$", description="Typed as /shortcut")
    title: str
    content: str = Field(
        description="As written, placeholders such as {{visitor.name}} included: the console"
        " expands them when it inserts the response"
    )
    created_at: datetime
    updated_at: datetime


class CannedResponseList(_Reply):
    items: list[CannedResponse] = Field(
        description="By shortcut, a personal one before an org-wide one of the same shortcut"
    )


class IdentitySecret(_Reply):
    """structures.md, "Signed visitor identity". Admins only; never logged, never in a space."""

    secret: str | None = Field(
        description="The HS256 key the site's backend signs identity tokens with; null until"
        " an admin generates one"
    )
    rotated_at: datetime | None = Field(description="When the current secret was made")
