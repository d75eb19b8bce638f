"""An agent's read marker (structures.md, "Read state"): REST (chat/http/api/reads.py) and the
agent socket (chat/actors/agent.py) move it the same way. The caller has found the thread in one
of the agent's organization's spaces (ThreadCommands.space_of), so another's is already a 404.
"""

from __future__ import annotations

from chat.errors import NotFoundError
from chat.streams.log import StreamLog


async def do_mark_read(
    stream_log: StreamLog, space_id: str, thread_id: str, agent_id: str, message_id: str | None
) -> str | None:
    """Move the agent's marker to `message_id` (None: the thread's end), never backwards; the
    marker now (None: the thread holds nothing). Moving it appends a `read` entry, which the
    agent's other sockets follow. NotFoundError once the log has forgotten the thread.

    Cancellation: a cancelled call may still have moved the marker; a repeat moves nothing."""
    try:
        _, marker = await stream_log.read_state.do_mark_read(
            space_id, thread_id, "agent", agent_id, message_id
        )
    except LookupError as exc:
        raise NotFoundError("no such thread") from exc
    return marker
