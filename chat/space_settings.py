"""A space's settings: defaults from the contract, validated at the REST edge."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SpaceSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    visitor_messages_per_second: float = Field(default=1.0, gt=0, le=100)
    visitor_burst: int = Field(default=5, ge=1, le=1000)
    max_open_threads: int = Field(default=10, ge=1, le=1_000_000)
    thread_ttl_seconds: int = Field(default=86400, ge=10, le=365 * 86400)
    greeting: str = Field(default="Hi! How can we help?", max_length=500)
    color: str = Field(default="#2563eb", pattern=r"^#[0-9a-fA-F]{6}$")

    @classmethod
    def of(cls, raw: dict[str, Any]) -> SpaceSettings:
        """Stored settings, tolerant of keys a newer version may have added."""
        return cls.model_validate({k: v for k, v in raw.items() if k in cls.model_fields})
