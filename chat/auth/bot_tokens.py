"""Bot tokens (structures.md, "Bots"): the one secret a bot connects with, to the agent
WebSocket and the REST API, as that bot.

A token reads `chat_bot_<id>_<secret>`: the fixed prefix tells it apart from an access token (a
JWT starts `eyJ`) and an API key (`chat_sk_`), and secret scanners can find it; `<id>` is the
bot's agent id as 32 hex digits, so a request finds its row by primary key; `<secret>` is 32
random bytes, base64url. Only SHA-256 of the whole token is kept, as for API keys
(chat/auth/api_keys.py says why a plain hash is enough for 256 random bits). A bot has one token
at a time: a rotation replaces it, and the old one stops working at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

PREFIX = "chat_bot_"
SECRET_BYTES = 32
# What an admin sees of a token after it was shown: the prefix with the id's first digits and
# the secret's last characters (enough to tell tokens apart, nothing to guess with).
SHOWN_ID_CHARS = 8
SHOWN_LAST_CHARS = 4

_TOKEN = re.compile(r"chat_bot_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class NewBotToken:
    token: str  # the whole token: shown once, never stored
    token_hash: bytes
    prefix: str  # e.g. chat_bot_1a2b3c4d
    last4: str


def new_bot_token(agent_id: str) -> NewBotToken:
    """A fresh token for the bot `agent_id` and what is stored of it."""
    hex_id = uuid.UUID(agent_id).hex
    secret = base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")
    token = f"{PREFIX}{hex_id}_{secret}"
    return NewBotToken(
        token=token,
        token_hash=bot_token_hash(token),
        prefix=PREFIX + hex_id[:SHOWN_ID_CHARS],
        last4=secret[-SHOWN_LAST_CHARS:],
    )


def looks_like_bot_token(token: str) -> bool:
    """Whether a bearer token is meant as a bot token (then it is never tried as a JWT)."""
    return token.startswith(PREFIX)


def bot_token_agent_id(token: str) -> str | None:
    """The bot id a well-formed token names (not yet checked against its hash), else None."""
    match = _TOKEN.fullmatch(token)
    return str(uuid.UUID(match.group(1))) if match else None


def bot_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def bot_token_matches(token: str, stored_hash: bytes) -> bool:
    """Whether `token` is the one `stored_hash` was made from, compared in constant time."""
    return hmac.compare_digest(bot_token_hash(token), stored_hash)
