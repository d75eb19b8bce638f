"""SECRET_KEY rotation with a grace period (README, "Rotating SECRET_KEY"): tokens are signed
with the current key and verified with it or any previous one still configured
(`previous_secret_keys`). A visitor whose session token was signed with a previous key keeps
their identity and thread, and gets a token signed with the current key in the welcome, which
the widget keeps: visitors who come back during the grace period carry over."""

from __future__ import annotations

from collections.abc import Sequence

from chat.auth.tokens import AccessClaims, check_access_token, check_session_token
from chat.errors import UnauthorizedError


def check_session_token_any(
    keys: Sequence[str], space_id: str, token: str
) -> tuple[str | None, bool]:
    """The visitor id of a token valid under one of `keys` (current first), and whether it was
    a previous key's (the caller then issues a token under the current key)."""
    for index, key in enumerate(keys):
        visitor_id = check_session_token(key, space_id, token)
        if visitor_id is not None:
            return visitor_id, index > 0
    return None, False


def check_access_token_any(keys: Sequence[str], token: str) -> AccessClaims:
    """check_access_token under the current key, else under a previous one (an access token
    lives 15 minutes: those issued just before a rotation stay good until they expire)."""
    try:
        return check_access_token(keys[0], token)
    except UnauthorizedError:
        for key in keys[1:]:
            try:
                return check_access_token(key, token)
            except UnauthorizedError:
                continue
        raise
