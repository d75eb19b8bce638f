"""Row shapes read from PostgreSQL: plain frozen dataclasses, turned into JSON at the edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AgentRow:
    id: str
    organization_id: str
    email: str
    name: str
    role: str
    accepting_chats: bool
    max_concurrent_chats: int
    last_seen_at: datetime | None
    created_at: datetime
    password_hash: str
    # Its live groups, oldest first (chat/db/accounts.py reads them with the row).
    group_ids: list[str] = field(default_factory=list)
    # 'human' or 'bot' (structures.md, "Bots"): a bot has no password, connects with its own
    # token, is never counted online for the widget and never routed to as a person.
    kind: str = "human"

    @property
    def is_bot(self) -> bool:
        return self.kind == "bot"


@dataclass(frozen=True, slots=True)
class SpaceRow:
    id: str
    organization_id: str
    name: str
    widget_key: str
    allowed_domains: list[str]
    settings: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrganizationRow:
    id: str
    name: str
    default_max_concurrent_chats: int
    require_two_factor: bool
    created_at: datetime
    time_zone: str  # IANA; where reports cut days and weeks


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: str
    organization_id: str
    name: str
    strategy: str
    sticky: bool
    created_at: datetime
    agent_ids: list[str]  # its live members, by id
    auto_transfer_seconds: int | None = None  # None: off
    # The bot that gets the group's new conversations first (structures.md, "Bots"); None: none.
    bot_agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class CannedResponseRow:
    id: str
    organization_id: str
    owner_agent_id: str | None  # None: organization-wide
    shortcut: str
    title: str
    content: str
    created_at: datetime
    updated_at: datetime
