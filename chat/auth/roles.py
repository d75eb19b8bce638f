"""An agent's role in its organization (structures.md, "Roles and supervisors"): what each may
do is decided here, once, for REST, the agent socket and the commands alike.

- agent: works conversations (claims from the queue, answers, notes, tags).
- supervisor: an agent who also runs the floor: takes over and reassigns any conversation,
  closes any, forces a transfer past availability and capacity, and whispers to the agent holding
  a conversation. Manages nothing of the organization's configuration.
- admin: a supervisor who also manages the organization (agents, spaces, groups, tags,
  integrations, settings).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Role = Literal["agent", "supervisor", "admin"]
# Least to most: each role may do everything the ones before it may.
ROLES: Final[tuple[Role, ...]] = get_args(Role)


def role_at_least(role: str, needed: Role) -> bool:
    """Whether an agent of `role` may do what `needed` may (an unknown role: nothing more than
    an agent, so a row from a newer version never gains powers here)."""
    rank = ROLES.index(role) if role in ROLES else 0
    return rank >= ROLES.index(needed)


def supervises(role: str) -> bool:
    """Supervisors and admins: they run the floor (take over, reassign, whisper)."""
    return role_at_least(role, "supervisor")


def reads_note(agent_id: str, role: str, *, author_id: str, to_agent_id: str | None) -> bool:
    """Whether an agent reads a note: an ordinary one (no addressee) every agent does; a whisper
    its addressee, its author, and whoever supervises (structures.md, "Roles and supervisors")."""
    if to_agent_id is None or agent_id in (to_agent_id, author_id):
        return True
    return supervises(role)
