"""Request bodies of the REST API (pydantic, extra fields refused)."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator
from quart import request

from chat.errors import InvalidError
from chat.http.origin import normalise_entry
from chat.spaces import SpaceSettings

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Password = Annotated[str, Field(min_length=10, max_length=1024)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


B = TypeVar("B", bound=_Body)


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


class CreateSpace(_Body):
    name: Name
    allowed_domains: Annotated[list[str], Field(min_length=1, max_length=100)]
    settings: SpaceSettings = SpaceSettings()

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        canonical = []
        for entry in value:
            normalised = normalise_entry(entry)
            if normalised is None:
                raise ValueError(f"not a host, host:port or *.host: {entry!r}")
            canonical.append(normalised)
        return canonical


async def read_body(model: type[B]) -> B:
    data: Any = await request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise InvalidError("the body must be a JSON object")
    return model.model_validate(data)
