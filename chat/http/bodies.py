"""REST request bodies (extra fields refused) and query strings (unknown keys ignored)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar, get_args
from uuid import UUID

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from quart import request

from chat.auth.roles import Role
from chat.business_hours import BusinessHours
from chat.db.canned_queries import MAX_LISTED, MAX_SHORTCUT_CHARS, MAX_TITLE_CHARS
from chat.db.group_queries import MAX_GROUP_NAME_CHARS, MAX_MEMBERS_PER_GROUP
from chat.errors import InvalidError
from chat.events import ThreadStatus
from chat.http.origin import normalise_entry
from chat.protocol.inbound import (
    MAX_CONTENT_CHARS,
    NUL_REFUSED,
    Name,
    StreamIdText,
    clean_name,
    contains_nul,
    is_blank,
    without_bidi_controls,
)
from chat.space_settings import (
    MAX_IDLE_CLOSE_SECONDS,
    MAX_LAUNCHER_LABEL_CHARS,
    MAX_REOPEN_WINDOW_SECONDS,
    AgentId,
    GroupId,
    Position,
    SpaceSettings,
    WidgetLocale,
)
from chat.time_zones import TimeZoneName

Password = Annotated[str, Field(min_length=10, max_length=1024)]
MaxChats = Annotated[int, Field(ge=1, le=1000)]
_STATUS = "(" + "|".join(get_args(ThreadStatus)) + ")"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Query(BaseModel):
    # Unknown query keys are ignored: clients add cache busters and tracking parameters.
    model_config = ConfigDict(extra="ignore", frozen=True)


B = TypeVar("B", bound=_Body)
M = TypeVar("M", bound=BaseModel)


class Register(_Body):
    organization_name: Name
    name: Name
    email: EmailStr
    password: Password


class Login(_Body):
    email: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(max_length=1024)]


class Refresh(_Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class Logout(_Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class UpdateMe(_Body):
    """A new password needs the current one, so a stolen access token cannot take the account."""

    name: Name | None = None
    accepting_chats: bool | None = None
    password: Password | None = None
    current_password: Annotated[str, Field(max_length=1024)] | None = None

    @model_validator(mode="after")
    def _current_with_new(self) -> UpdateMe:
        if self.password is not None and self.current_password is None:
            raise ValueError("current_password is required to set a new password")
        return self


class CreateAgent(_Body):
    email: EmailStr
    name: Name
    password: Password
    role: Role = "agent"
    # None: the organization's default_max_concurrent_chats (PATCH /organization).
    max_concurrent_chats: MaxChats | None = None


class UpdateAgent(_Body):
    name: Name | None = None
    role: Role | None = None
    max_concurrent_chats: MaxChats | None = None
    accepting_chats: bool | None = None
    password: Password | None = None


def _canonical_domains(value: list[str]) -> list[str]:
    canonical = []
    for entry in value:
        normalised = normalise_entry(entry)
        if normalised is None:
            raise ValueError(f"not a host, host:port or *.host: {entry!r}")
        if normalised not in canonical:
            canonical.append(normalised)
    return canonical


Domains = Annotated[
    list[Annotated[str, Field(max_length=260)]], Field(min_length=1, max_length=100)
]


class CreateSpace(_Body):
    name: Name
    allowed_domains: Domains
    settings: SpaceSettings = SpaceSettings()

    _domains = field_validator("allowed_domains")(_canonical_domains)


class SpaceSettingsChange(_Body):
    """Only the settings given change; the others keep their values."""

    visitor_messages_per_second: float | None = Field(default=None, gt=0, le=100)
    visitor_burst: int | None = Field(default=None, ge=1, le=1000)
    max_open_threads: int | None = Field(default=None, ge=1, le=1_000_000)
    thread_ttl_seconds: int | None = Field(default=None, ge=10, le=365 * 86400)
    idle_close_seconds: int | None = Field(default=None, ge=0, le=MAX_IDLE_CLOSE_SECONDS)
    reopen_window_seconds: int | None = Field(default=None, ge=0, le=MAX_REOPEN_WINDOW_SECONDS)
    greeting: str | None = Field(default=None, max_length=500)
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
    # null clears it (no default group); left out, it keeps its value.
    default_group_id: GroupId | None = None
    visitor_picks_group: bool | None = None
    # The bot that answers first (structures.md, "Bots"); null clears it.
    bot_agent_id: AgentId | None = None
    # Agents see visitors' drafts (structures.md, "Typing preview"); off unless set.
    typing_preview: bool | None = None
    # Only visitors verified by a signed identity token open conversations (structures.md,
    # "Signed visitor identity").
    require_identity: bool | None = None
    # Business hours (structures.md, "Business hours"): the whole setting; null clears it.
    business_hours: BusinessHours | None = None
    # The widget's language for every visitor, or "auto" (README "Languages").
    locale: WidgetLocale | None = None
    # Appearance (structures.md, "Appearance"); an empty launcher_label shows the bubble alone.
    position: Position | None = None
    launcher_label: str | None = Field(default=None, max_length=MAX_LAUNCHER_LABEL_CHARS)

    @field_validator("launcher_label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        # Shown on every page of the site: trimmed, one line, no bidi controls that could
        # reorder the host page's text around it; nothing visible left is "no label".
        if value is None:
            return None
        if any(c in value for c in "\r\n\t") or contains_nul(value):
            raise ValueError("the launcher label is one line of text")
        return clean_name(value)

    def changes(self) -> dict[str, Any]:
        """The settings to merge: those given, and null where null is a value (no group, no
        business hours)."""
        given = self.model_dump(exclude_none=True)
        for nullable in ("default_group_id", "bot_agent_id", "business_hours"):
            if nullable in self.model_fields_set and getattr(self, nullable) is None:
                given[nullable] = None
        return given


class UpdateSpace(_Body):
    name: Name | None = None
    allowed_domains: Domains | None = None
    settings: SpaceSettingsChange | None = None

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _canonical_domains(value)


class TransferThread(_Body):
    agent_id: UUID
    # Admins only: past the target's availability and capacity (403 forbidden for others).
    force: bool = False


class ThreadListQuery(_Query):
    status: str = Field(
        default="unassigned,active",
        pattern=rf"^{_STATUS}(,{_STATUS})*$",
        description="Comma-separated statuses",
    )
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None, max_length=200, description="next_cursor of the previous page"
    )
    assigned: str | None = Field(
        default=None,
        pattern=r"^(me|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
        description="Only threads assigned to this agent id, or to the caller with `me`",
    )
    tag: UUID | None = Field(
        default=None,
        description="Only conversations carrying this tag (as projected); another"
        " organization's tag is 404",
    )


class MessageListQuery(_Query):
    before: StreamIdText | None = Field(
        default=None,
        description="A message id: the page ends just before it (next_before of the last page)",
    )
    limit: int = Field(default=50, ge=1, le=200)


async def read_body(model: type[B]) -> B:
    """The JSON body (UTF-8, whatever the Content-Type says) validated into `model`."""
    raw = await request.get_data(as_text=False)
    try:
        data: Any = orjson.loads(raw)  # refuses bytes that are not UTF-8, too
    except orjson.JSONDecodeError as exc:
        raise InvalidError("the body must be a JSON object") from exc
    if not isinstance(data, dict):
        raise InvalidError("the body must be a JSON object")
    if contains_nul(data):
        raise InvalidError(NUL_REFUSED)
    return model.model_validate(data)


def read_query(model: type[M], args: Mapping[str, str]) -> M:
    """The query string as a model; a key given twice counts once (its first value)."""
    return model.model_validate(dict(args.items()))


# Groups (departments): chat/http/api/groups.py.
Strategy = Literal["manual", "round_robin", "least_loaded"]
GroupName = Annotated[Name, StringConstraints(max_length=MAX_GROUP_NAME_CHARS)]


# A router-assigned conversation unanswered this long goes to another member (null: off).
AutoTransferSeconds = Annotated[int, Field(ge=1, le=3600)]


class CreateGroup(_Body):
    name: GroupName
    strategy: Strategy = "manual"
    sticky: bool = False
    auto_transfer_seconds: AutoTransferSeconds | None = None
    # A live bot of the organization that answers the group's new conversations first
    # (structures.md, "Bots").
    bot_agent_id: UUID | None = None


class UpdateGroup(_Body):
    name: GroupName | None = None
    strategy: Strategy | None = None
    sticky: bool | None = None
    # null turns auto-transfer off: unlike the other fields, an explicit null is a change.
    auto_transfer_seconds: AutoTransferSeconds | None = None
    # The bot that answers first; null: none (an explicit null is a change, as above).
    bot_agent_id: UUID | None = None


class GroupMembers(_Body):
    """The whole membership: agents left out leave the group."""

    agent_ids: list[UUID] = Field(max_length=MAX_MEMBERS_PER_GROUP)


class UpdateOrganization(_Body):
    name: Name | None = None
    default_max_concurrent_chats: MaxChats | None = None
    # Turning it on needs the caller enrolled; sign-ins that passed no second factor stop
    # refreshing (structures.md, "Two-factor sign-in").
    require_two_factor: bool | None = None
    # Where reports cut days and weeks (README "Reports"); an IANA name such as Europe/Paris.
    time_zone: TimeZoneName | None = None


# Canned responses: chat/http/api/canned.py.
def _canned_content(value: str) -> str:
    """As a message's content (the composer sends it as one): trimmed, bidi controls removed,
    1..4000 characters with something visible."""
    text = without_bidi_controls(value).strip()
    if is_blank(text):
        raise ValueError("the content has no visible characters")
    if len(text) > MAX_CONTENT_CHARS:
        raise ValueError(f"at most {MAX_CONTENT_CHARS} characters")
    return text


# Letters are lowercased, so "Hello" and "hello" are one shortcut.
Shortcut = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=MAX_SHORTCUT_CHARS,
        pattern=r"^[A-Za-z0-9_-]+$",
    ),
]
CannedTitle = Annotated[Name, StringConstraints(max_length=MAX_TITLE_CHARS)]
CannedContent = Annotated[
    str, Field(max_length=4 * MAX_CONTENT_CHARS), AfterValidator(_canned_content)
]


class CreateCannedResponse(_Body):
    """`organization`: offered to every agent, admins only (403 forbidden for others);
    `personal`: the caller's own."""

    scope: Literal["organization", "personal"] = "personal"
    shortcut: Shortcut
    title: CannedTitle
    content: CannedContent


class UpdateCannedResponse(_Body):
    shortcut: Shortcut | None = None
    title: CannedTitle | None = None
    content: CannedContent | None = None


class CannedListQuery(_Query):
    q: str | None = Field(
        default=None,
        max_length=MAX_TITLE_CHARS,
        description="Only responses whose shortcut or title starts with this, in any case"
        " (a leading / is ignored)",
    )
    limit: int = Field(default=MAX_LISTED, ge=1, le=MAX_LISTED)

    @field_validator("q")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:  # PostgreSQL text cannot hold it
            raise ValueError(NUL_REFUSED)
        return value
