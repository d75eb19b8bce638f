"""How a delivery is signed: Stripe's scheme, under this service's header names.

`Chat-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp is
signed with the body, so a receiver that refuses a `t` older than a few minutes refuses replays
of a captured request; `v1` names the scheme so a later one can be sent beside it during a
change. README "Webhooks" has a receiver's ten lines.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Chat-Signature"
EVENT_ID_HEADER = "Chat-Event-Id"
EVENT_KIND_HEADER = "Chat-Event-Kind"
SPACE_ID_HEADER = "Chat-Space-Id"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret


def new_secret() -> str:
    """A fresh signing secret (256 random bits); the whole string is the HMAC key."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
