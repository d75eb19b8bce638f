"""Signed visitor identity tokens (structures.md, "Signed visitor identity").

The host site's backend signs a short-lived JWT with its space's identity secret; the widget
passes it on (`ChatWidget.identify({token})`). This module checks one: HS256 only (pinned, as for
agents' tokens: `alg: none`, RS256 with the secret as a public key, HS512 are all refused), `exp`
required and at most MAX_TOKEN_LIFETIME_SECONDS ahead, `sub` the site's user id (1..255
characters), and `name`, `email`, `attributes` held to the bounds of an unsigned identify.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from pydantic import ValidationError

from chat.errors import IdentityExpiredError, IdentityInvalidError
from chat.protocol.context import check_attributes
from chat.protocol.inbound import Identify

IDENTITY_ALGORITHM = "HS256"
# A token is proof of a sign-in on the host site a moment ago, not a credential to keep: a site
# signs one per page it renders. One valid for longer than a day is refused even if signed, so a
# leaked token (a log, a cached page) is worth little.
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
# Clock skew tolerated between the host site's servers and this service.
LEEWAY_SECONDS = 30
MAX_SUB_CHARS = 255
# 32 random bytes, URL-safe: 43 characters, as strong as HS256's key can use.
SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class SignedIdentity:
    """Who a valid token says the visitor is; `fields` as an identify stores them."""

    sub: str
    fields: dict[str, str]


def new_identity_secret() -> str:
    """A fresh identity secret for a space."""
    return "is_" + secrets.token_urlsafe(SECRET_BYTES)


def check_identity_token(secret: str, token: str, now: float | None = None) -> SignedIdentity:
    """The identity a token signed with `secret` carries. IdentityExpiredError for an expired
    one, IdentityInvalidError for anything else wrong (never naming more than which claim), and
    the identify frame's errors (too_long, invalid) for claims over its bounds."""
    at = time.time() if now is None else now
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[IDENTITY_ALGORITHM],
            options={"require": ["exp", "sub"], "verify_aud": False},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise IdentityExpiredError() from exc
    except jwt.PyJWTError as exc:
        raise IdentityInvalidError(f"invalid identity token: {_reason(exc)}") from exc
    if claims["exp"] > at + MAX_TOKEN_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise IdentityInvalidError("invalid identity token: exp is more than 24 hours ahead")
    sub = claims["sub"]
    if not isinstance(sub, str) or not 1 <= len(sub.strip()) <= MAX_SUB_CHARS:
        raise IdentityInvalidError(f"invalid identity token: sub must be 1..{MAX_SUB_CHARS} chars")
    return SignedIdentity(sub.strip(), _fields(claims))


def _fields(claims: dict[str, Any]) -> dict[str, str]:
    """name, email and attributes, checked exactly as an unsigned identify's."""
    wanted = {k: claims[k] for k in ("name", "email", "attributes") if claims.get(k) is not None}
    try:
        frame = Identify.model_validate({"type": "identify", **wanted})
    except ValidationError as exc:
        where = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"])
        raise IdentityInvalidError(f"invalid identity token: bad claim {where}") from exc
    fields = {k: v.strip() for k, v in (("name", frame.name), ("email", frame.email)) if v}
    if frame.attributes is not None:
        fields["attributes"] = check_attributes(frame.attributes)
    return fields


def _reason(exc: jwt.PyJWTError) -> str:
    """What was wrong, in words that help the site's developer and reveal nothing of the key."""
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the {exc.claim} claim is required"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the signature does not match this space's identity secret"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "only HS256 is accepted"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "iat or nbf is in the future"
    return "malformed"
