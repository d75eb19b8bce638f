"""The team as visitors see it in the widget's header (structures.md, "Appearance"): up to
three agents by display name and picture, and the reply time as a bucket.

Only a display name and a picture URL leave for each agent: never an email, never an id (the
picture's URL names a random file id, not the agent).
"""

from __future__ import annotations

from typing import Literal

from chat.db.team_cache import TeamSnapshot
from chat.json_types import Json

# Faces shown in the header; the rest are counted ("and 2 others").
TEAM_SHOWN = 3
ReplyTime = Literal["minutes", "hour", "day"]
# Upper bounds of the buckets, in seconds of median first response: "a few minutes", "within an
# hour", "within a day". Slower than a day says nothing a visitor can use: no line then.
REPLY_BUCKETS: tuple[tuple[float, ReplyTime], ...] = (
    (600, "minutes"),
    (3600, "hour"),
    (86400, "day"),
)


def reply_time(seconds: float | None) -> ReplyTime | None:
    """The bucket of a median first-response time; None without data or past a day."""
    if seconds is None:
        return None
    for bound, bucket in REPLY_BUCKETS:
        if seconds <= bound:
            return bucket
    return None


def avatar_url(avatar_id: str | None) -> str | None:
    return None if avatar_id is None else f"/api/v1/avatars/{avatar_id}"


def public_team(snapshot: TeamSnapshot, online: set[str]) -> Json:
    """Online agents first, then the most recently active; each with its name and picture."""
    ordered = sorted(snapshot.members, key=lambda m: m.agent_id not in online)  # stable
    shown = ordered[:TEAM_SHOWN]
    return {
        "members": [{"name": m.name, "avatar_url": avatar_url(m.avatar_id)} for m in shown],
        "others": max(0, snapshot.size - len(shown)),
    }
