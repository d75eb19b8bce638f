"""Short-lived tokens of a sign-in that is not finished: the password was right, the second
factor is still owed. Neither is an access token: each has its own `typ` and `aud`, and
check_access_token refuses both (PyJWT refuses a token with an `aud` when none is expected),
so they open no route but the one step they are for.

- challenge (`typ` 2fa_challenge): the agent has a second factor; POST
  /auth/login/second-factor trades it and a code for the access and refresh tokens.
- enrolment (`typ` 2fa_enrolment): the organization requires a second factor and the agent has
  none; it opens only the enrolment routes, whose confirmation signs the agent in.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Literal

import jwt

from chat.auth.tokens import JWT_ALGORITHM
from chat.errors import UnauthorizedError

PendingKind = Literal["2fa_challenge", "2fa_enrolment"]
CHALLENGE: PendingKind = "2fa_challenge"
ENROLMENT: PendingKind = "2fa_enrolment"
_AUDIENCE = "chat:sign-in"
# Long enough to open an authenticator app, or to install one and scan a QR code.
CHALLENGE_TTL_SECONDS = 300
ENROLMENT_TTL_SECONDS = 900


@dataclass(frozen=True, slots=True)
class PendingClaims:
    agent_id: str
    organization_id: str


def issue_pending_token(secret: str, kind: PendingKind, claims: PendingClaims) -> str:
    now = int(time.time())
    ttl = CHALLENGE_TTL_SECONDS if kind == CHALLENGE else ENROLMENT_TTL_SECONDS
    payload = {
        "sub": claims.agent_id,
        "org": claims.organization_id,
        "typ": kind,
        "aud": _AUDIENCE,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def check_pending_token(secret: str, kind: PendingKind, token: str) -> PendingClaims:
    """The claims of a valid token of `kind`; UnauthorizedError for anything else."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["sub", "org", "typ", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as exc:
        raise UnauthorizedError("invalid or expired sign-in token; sign in again") from exc
    if payload.get("typ") != kind:
        raise UnauthorizedError("not a token for this step of the sign-in")
    return PendingClaims(str(payload["sub"]), str(payload["org"]))
