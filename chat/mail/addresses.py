"""Signed reply addresses and Message-IDs (structures.md, "Email").

A visitor's mail carries `Reply-To: reply+<thread_id>.<mac>@<reply domain>`, where mac is the
first MAC_HEX_CHARS hex digits of HMAC-SHA256(secret, thread_id). The address is the only
credential a reply needs, so it must not be guessable from a thread id (which a visitor sees):
64 bits of MAC, compared in constant time. Lower-case hex and a UUID, because some mail servers
fold the case of local parts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid

from chat.config import Settings

LOCAL_PREFIX = "reply+"
# 16 hex digits = 64 bits: forging one needs ~2**63 tries against a rate-limited route.
MAC_HEX_CHARS = 16
# Why a label: the same SECRET_KEY signs JWTs; a derived key keeps the two uses apart.
_DERIVATION_LABEL = b"chat email reply addresses v1"
_REPLY = re.compile(
    r"^reply\+(?P<thread>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"\.(?P<mac>[0-9a-f]{" + str(MAC_HEX_CHARS) + r"})@[^@\s]+$"
)


def reply_key(reply_secret: str, secret_key: str) -> bytes:
    """The key that signs reply addresses: the reply secret if set, else one derived from
    SECRET_KEY (rotating SECRET_KEY then voids the reply addresses already sent)."""
    if reply_secret:
        return reply_secret.encode()
    return hmac.new(secret_key.encode(), _DERIVATION_LABEL, hashlib.sha256).digest()


def settings_reply_key(settings: Settings) -> bytes:
    return reply_key(settings.email_reply_secret.get_secret_value(), settings.secret_key)


def settings_reply_domain(settings: Settings) -> str:
    """CHAT_EMAIL_REPLY_DOMAIN, else the From address's domain."""
    return settings.email_reply_domain or settings.email_from.rpartition("@")[2] or "localhost"


def _mac(key: bytes, thread_id: str) -> str:
    return hmac.new(key, thread_id.encode(), hashlib.sha256).hexdigest()[:MAC_HEX_CHARS]


def reply_address(key: bytes, thread_id: str, domain: str) -> str:
    """The address whose mail joins `thread_id` (a UUID)."""
    thread = str(uuid.UUID(thread_id))
    return f"{LOCAL_PREFIX}{thread}.{_mac(key, thread)}@{domain}"


def thread_of_reply_address(key: bytes, address: str) -> str | None:
    """The thread id a reply address names if its MAC is right; None for any other address
    (not a reply address, or a forged or damaged one: the caller cannot tell which)."""
    found = _REPLY.match(address.strip().lower())
    if found is None:
        return None
    thread = found["thread"]
    if not hmac.compare_digest(_mac(key, thread), found["mac"]):
        return None
    return thread


def message_id(thread_id: str, entry_id: str, recipient: str, domain: str) -> str:
    """The Message-ID of the mail about one message: stable, so a resent mail is recognisably
    the same one. Entry ids are per space, so the thread id keeps it unique."""
    return f"<{thread_id}.{entry_id}.{recipient}@{domain}>"


def thread_root_id(thread_id: str, recipient: str, domain: str) -> str:
    """A Message-ID no mail has, which every mail of the thread to one recipient references:
    mail clients thread them together from the first one on."""
    return f"<{thread_id}.{recipient}@{domain}>"
