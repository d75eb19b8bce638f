"""Agent access tokens (JWT, HS256 only) and visitor session tokens (HMAC-signed ids)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt

from chat.errors import UnauthorizedError

JWT_ALGORITHM = "HS256"  # pinned: verification accepts this algorithm and no other
ACCESS_TYPE = "access"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    agent_id: str
    organization_id: str
    role: str
    # The refresh-token family this access token was issued with: one sign-in. Logout or a
    # password change revokes the family, and with it this access token before it expires.
    session_id: str


def issue_access_token(secret: str, claims: AccessClaims, ttl_seconds: int) -> str:
    now = int(time.time())
    payload = {
        "sub": claims.agent_id,
        "org": claims.organization_id,
        "role": claims.role,
        "typ": ACCESS_TYPE,
        "sid": claims.session_id,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def check_access_token(secret: str, token: str) -> AccessClaims:
    """The token's claims; UnauthorizedError for any bad, expired or foreign token."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "org", "role", "typ", "sid", "exp", "iat"]},
        )
    except jwt.PyJWTError as exc:
        raise UnauthorizedError("invalid or expired access token") from exc
    if payload.get("typ") != ACCESS_TYPE:
        raise UnauthorizedError("not an access token")
    return AccessClaims(
        str(payload["sub"]), str(payload["org"]), str(payload["role"]), str(payload["sid"])
    )


def new_refresh_token() -> tuple[str, bytes]:
    """A random refresh token and the hash that is stored instead of it."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_hash(token)


def refresh_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue_session_token(secret: str, space_id: str, visitor_id: str) -> str:
    """A visitor's session token: their id, signed for one space. Kept by the widget."""
    body = f"{space_id}.{visitor_id}"
    return f"{visitor_id}.{_sign(secret, body)}"


def check_session_token(secret: str, space_id: str, token: str) -> str | None:
    """The visitor id in a valid token for this space, else None."""
    visitor_id, _, signature = token.partition(".")
    expected = _sign(secret, f"{space_id}.{visitor_id}")
    if not visitor_id or not hmac.compare_digest(signature, expected):
        return None
    return visitor_id


def _sign(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), b"session:" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")
