"""API keys for server-to-server use: their format, their stored hash and their scopes.

A key reads `chat_sk_<id>_<secret>`: the fixed prefix makes it greppable by secret scanners and
tells it apart from a JWT (which starts `eyJ`); `<id>` is the key's row id as 32 hex digits, so
a request finds its row by primary key; `<secret>` is 32 random bytes from `secrets`, base64url.
Only SHA-256 of the whole key is stored (structures.md, "API keys").

Why a plain SHA-256 and not argon2: a key carries 256 random bits, so nobody can guess one from
its hash, salted or not, slowly or fast; argon2 exists to protect low-entropy passwords and would
cost every API request 50-100 ms of CPU and 64 MiB. Why not keyed with the server's secret: it
would add nothing against guessing, and rotating that secret would then silently break every
integration. Refresh tokens are stored the same way (chat/auth/tokens.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Literal, get_args

PREFIX = "chat_sk_"
SECRET_BYTES = 32
# What an admin sees of a key after creating it: the prefix with the id's first digits, and the
# secret's last characters (enough to tell keys apart, nothing to guess with).
SHOWN_ID_CHARS = 8
SHOWN_LAST_CHARS = 4

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)

# <id>: a UUID's 32 hex digits; <secret>: base64url without padding (43 characters for 32 bytes).
_KEY = re.compile(r"chat_sk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class NewKey:
    id: str  # the row id (a UUID)
    key: str  # the whole key: shown once, never stored
    key_hash: bytes
    prefix: str  # e.g. chat_sk_1a2b3c4d
    last4: str


def new_api_key() -> NewKey:
    """A fresh key, its row id and what is stored of it."""
    key_id = uuid.uuid4()
    secret = base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")
    key = f"{PREFIX}{key_id.hex}_{secret}"
    return NewKey(
        id=str(key_id),
        key=key,
        key_hash=api_key_hash(key),
        prefix=PREFIX + key_id.hex[:SHOWN_ID_CHARS],
        last4=secret[-SHOWN_LAST_CHARS:],
    )


def looks_like_api_key(token: str) -> bool:
    """Whether a bearer token is meant as an API key (then it is never tried as a JWT)."""
    return token.startswith(PREFIX)


def api_key_id(token: str) -> str | None:
    """The row id a well-formed key names (not yet checked against its hash), else None."""
    match = _KEY.fullmatch(token)
    return str(uuid.UUID(match.group(1))) if match else None


def api_key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def api_key_matches(key: str, stored_hash: bytes) -> bool:
    """Whether `key` is the one `stored_hash` was made from, compared in constant time."""
    return hmac.compare_digest(api_key_hash(key), stored_hash)


def required_scope(method: str, *, admin: bool) -> Scope:
    """The one scope a route needs: `admin` for admin-only routes, else `read` for GET (and
    HEAD), `write` for any other method. Scopes do not imply each other."""
    if admin:
        return "admin"
    return "read" if method.upper() in ("GET", "HEAD") else "write"
