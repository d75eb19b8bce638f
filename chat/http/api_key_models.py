"""Bodies and replies of the API key routes (chat/http/api/api_keys.py), in the OpenAPI document
like every route's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints, field_validator

from chat.auth.api_keys import Scope
from chat.http.bodies import _Body
from chat.http.replies import _Reply

KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class CreateApiKey(_Body):
    name: KeyName = Field(description="What the key is for, e.g. the integration's name")
    scopes: list[Scope] = Field(
        min_length=1,
        max_length=3,
        description="read: GET routes; write: other agent routes; admin: admin-only routes."
        " None implies another.",
    )

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, value: list[Scope]) -> list[Scope]:
        """Stored once each, in a fixed order, so lists compare as sets."""
        return [scope for scope in ("read", "write", "admin") if scope in value]


class ApiKey(_Reply):
    id: UUID
    name: str
    scopes: list[Scope]
    prefix: str = Field(description="The key's start (chat_sk_ and 8 hex digits of its id)")
    last4: str = Field(description="The key's last 4 characters")
    created_by: UUID = Field(description="The admin who created it, whom the key acts as")
    created_by_name: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated at most once a minute")
    revoked_at: datetime | None
    active: bool = Field(
        description="Whether the key works now: not revoked, and its admin still a live admin"
    )


class CreatedApiKey(ApiKey):
    key: str = Field(description="The whole key: shown this once, never stored nor shown again")


class ApiKeyList(_Reply):
    items: list[ApiKey]
