"""Short-lived signed links to one attachment: HMAC-SHA256 with the secret key over the file id
and the expiry, so a link names one file until one moment and cannot be bent to another."""

from __future__ import annotations

import base64
import hashlib
import hmac

# Long enough to load a conversation's images and click a download; short enough that a link
# copied out of a page is soon worthless. The apps ask for a fresh one when a link has expired.
DEFAULT_LINK_SECONDS = 300


def _mac(secret: str, file_id: str, expires: int) -> str:
    digest = hmac.new(
        secret.encode(), f"attachment:{file_id}:{expires}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def sign_link(secret: str, file_id: str, now_s: int, ttl_seconds: int) -> tuple[int, str]:
    """(expires, signature) for a link to `file_id` valid `ttl_seconds` from `now_s`."""
    expires = now_s + ttl_seconds
    return expires, _mac(secret, file_id, expires)


def link_valid(secret: str, file_id: str, expires: int, signature: str, now_s: int) -> bool:
    """True for an unexpired link signed for exactly this file."""
    if expires < now_s:
        return False
    # compare_digest: the time taken says nothing about how much of the signature was right.
    return hmac.compare_digest(_mac(secret, file_id, expires), signature)
