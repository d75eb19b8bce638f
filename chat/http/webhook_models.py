"""Bodies and replies of the webhook routes (chat/http/api/webhooks.py), in the OpenAPI document
like every route's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from chat.http.bodies import _Body, _Query
from chat.http.replies import _Reply
from chat.ids import check_stream_id
from chat.protocol.inbound import NUL_REFUSED, StreamIdText
from chat.webhooks.destinations import MAX_URL_CHARS
from chat.webhooks.events import PUBLIC_KINDS


def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise ValueError(NUL_REFUSED)
    return value


Kind = Literal[PUBLIC_KINDS]  # type: ignore[valid-type]
Kinds = Annotated[list[Kind], Field(min_length=1, max_length=len(PUBLIC_KINDS))]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_CHARS)
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_nul)
]
DeliveryStatus = Literal["pending", "delivered", "failed"]


def _unique(kinds: list[str] | None) -> list[str] | None:
    return None if kinds is None else sorted(set(kinds), key=PUBLIC_KINDS.index)


class CreateWebhook(_Body):
    url: Url = Field(description="http(s); private, loopback and link-local hosts are refused")
    kinds: Kinds = Field(description="The event kinds to send; note.created only if named")
    description: Description = ""
    enabled: bool = True

    _kinds = field_validator("kinds")(_unique)


class UpdateWebhook(_Body):
    url: Url | None = None
    kinds: Kinds | None = None
    description: Description | None = None
    enabled: bool | None = None

    _kinds = field_validator("kinds")(_unique)


class ReplayWebhook(_Body):
    """Exactly one of the two."""

    from_event_id: StreamIdText | None = Field(
        default=None, description="Re-send every event after this id (not the event itself)"
    )
    from_time: datetime | None = Field(
        default=None, description="Re-send every event at or after this time"
    )

    @model_validator(mode="after")
    def _one(self) -> ReplayWebhook:
        if (self.from_event_id is None) == (self.from_time is None):
            raise ValueError("give exactly one of from_event_id and from_time")
        if self.from_time is not None and self.from_time.tzinfo is None:
            raise ValueError("from_time needs a time zone (RFC 3339)")
        return self


class DeliveryListQuery(_Query):
    status: DeliveryStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None,
        max_length=80,
        pattern=r"^\d{1,20}-\d{1,20}\.[0-9a-f-]{36}$",
        description="next_cursor of the previous page",
    )

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None:
            entry, _, space = value.partition(".")
            check_stream_id(entry)
            UUID(space)  # ValueError: pydantic reports the field
        return value


class Webhook(_Reply):
    id: UUID
    url: str
    kinds: list[str]
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(Webhook):
    secret: str = Field(
        description="Signs every delivery (Chat-Signature); shown only on create and rotate"
    )


class WebhookList(_Reply):
    items: list[Webhook]


class Delivery(_Reply):
    event_id: str = Field(description="The event's id: its stream entry id in its space")
    space_id: UUID
    kind: str | None = Field(description="null once the event's body was swept")
    status: DeliveryStatus
    attempts: int
    last_status: int | None = Field(description="The HTTP status of the last answer")
    last_error: str | None
    last_latency_ms: int | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When it is tried again, if pending")
    delivered_at: datetime | None


class DeliveryList(_Reply):
    items: list[Delivery]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class ReplayStarted(_Reply):
    enqueued: int = Field(description="Events that will be sent (again), oldest first")
