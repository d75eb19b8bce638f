"""A space's settings: defaults from the contract, validated at the REST edge."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chat.business_hours import BusinessHours

# The widget's languages (widget/src/locales/en.ts and widget/locales/*.json; a test keeps the
# two lists equal): a space's `locale` is one of them, or "auto" (README "Languages").
WidgetLocale = Literal["auto", "en", "ar", "de", "es", "fr", "pt"]

# A group's id in settings: kept as canonical text, since settings are stored as JSON.
GroupId = Annotated[
    str,
    Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
    AfterValidator(str.lower),
]
# An agent's id in settings (a bot's): the same canonical text.
AgentId = GroupId

# The longest a space may keep closed conversations reopenable; the projector keeps a finished
# thread's state in Redis this long (chat/actors/projector.py), so a reopen finds it.
MAX_REOPEN_WINDOW_SECONDS = 7 * 86400
MAX_IDLE_CLOSE_SECONDS = 30 * 86400
# The largest attachment any space may allow: the upload route's body limit, and what one
# request holds in memory.
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024


# The widget's corner: bottom-right (the default, where visitors look for it) or bottom-left
# (for pages whose own controls sit bottom-right).
Position = Literal["right", "left"]
# A launcher label is a few words ("Chat with us"); longer would cover the host page.
MAX_LAUNCHER_LABEL_CHARS = 40


class SpaceSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    visitor_messages_per_second: float = Field(default=1.0, gt=0, le=100)
    visitor_burst: int = Field(default=5, ge=1, le=1000)
    # Caps the conversations waiting for an agent (unassigned), not those being served; a
    # visitor past it gets queue_full and can leave a message (structures.md, "The waiting
    # queue"). 100 waiting is more than a small team ever sees.
    max_open_threads: int = Field(default=100, ge=1, le=1_000_000)
    thread_ttl_seconds: int = Field(default=86400, ge=10, le=365 * 86400)
    # Close a conversation this long after an agent's answer the visitor did not reply to
    # (0: never). A live-chat visitor who has not answered in 30 minutes has left; closing frees
    # the agent, and a late reply reopens it (reopen_window_seconds).
    idle_close_seconds: int = Field(default=1800, ge=0, le=MAX_IDLE_CLOSE_SECONDS)
    # A visitor writing within this long after their conversation closed (or expired) continues
    # it rather than opening a new one (0: never). A day covers coming back later the same day.
    reopen_window_seconds: int = Field(default=86400, ge=0, le=MAX_REOPEN_WINDOW_SECONDS)
    greeting: str = Field(default="Hi! How can we help?", max_length=500)
    color: str = Field(default="#2563eb", pattern=r"^#[0-9a-fA-F]{6}$")
    # The group the space's conversations go to (a live group of the space's organization,
    # checked by the REST routes); None: the whole team, as before groups existed.
    default_group_id: GroupId | None = None
    # The pre-chat form offers the organization's groups (the widget config lists them).
    visitor_picks_group: bool = False
    # A bot (a live bot agent of the space's organization, checked by the REST routes) that gets
    # the space's new conversations first and hands them over to people (structures.md, "Bots");
    # a group's own bot_agent_id wins over it. None: people first.
    bot_agent_id: AgentId | None = None
    # Attachments (structures.md, "Attachments"): the largest file, and the kinds of content
    # accepted, sniffed from the bytes (HTML and SVG never are, whatever this says).
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=MAX_ATTACHMENT_BYTES)
    attachment_kinds: tuple[Literal["image", "pdf", "text"], ...] = ("image", "pdf", "text")
    # Agents see a visitor's draft while they type (structures.md, "Typing preview"). Off by
    # default: a visitor may not expect their unsent words to be read.
    typing_preview: bool = False
    # Only visitors verified by a signed identity token may open a conversation; the others are
    # answered `identity_required` (structures.md, "Signed visitor identity"). Public, so the
    # widget can say so before the visitor writes.
    require_identity: bool = False
    # When the team answers live (structures.md, "Business hours"); None: always. Outside them
    # the widget shows the away message and the return time and offers the offline form.
    business_hours: BusinessHours | None = None
    # The language the widget speaks to every visitor; "auto": the visitor's browser languages
    # (best match, else English). ChatWidget.setLocale on the page overrides either.
    locale: WidgetLocale = "auto"

    # Appearance (structures.md, "Appearance"): which bottom corner the widget sits in, and an
    # optional text beside its bubble (empty: the bubble alone). Public, as greeting and color.
    position: Position = "right"
    launcher_label: str = Field(default="", max_length=MAX_LAUNCHER_LABEL_CHARS)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> SpaceSettings:
        """Stored settings, tolerant of keys a newer version may have added.

        Parsed once per settings dict: the space cache hands every socket of a space the same
        row, and a widget connect parsed it twice (a pydantic validation and ~1.3 KB held per
        socket). The models are frozen, so one is shared; the dict is held with it, so its id
        is not reused while cached."""
        hit = _PARSED.get(id(raw))
        if hit is not None and hit[0] is raw:
            return hit[1]
        parsed = cls.model_validate({k: v for k, v in raw.items() if k in cls.model_fields})
        if len(_PARSED) >= PARSED_CACHE_SIZE:
            _PARSED.clear()
        _PARSED[id(raw)] = (raw, parsed)
        return parsed


# SpaceSettings.of's parsed settings by the id of their dict (the dict kept alongside): bounded,
# and emptied when full (a cache of the spaces this process serves, not an index of them all).
PARSED_CACHE_SIZE = 1024
_PARSED: dict[int, tuple[dict[str, Any], SpaceSettings]] = {}
