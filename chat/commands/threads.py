"""Thread commands: find which of an organization's spaces holds a thread, and claim, close or
transfer it. REST (chat/http/api/threads.py) and the agent socket (chat/actors/agent.py) both
call these, so both find a thread the same way and answer the same errors.

Each `do_*` is one atomic script on the space's log (chat/streams/lua.py): of concurrent claims
exactly one wins. Cancellation: a cancelled `do_*` may still have been applied (the script ran,
the reply was lost). A retried claim by the holder is answered with the thread again and a
retried close with thread_closed; a retried transfer to the same agent appends a second
`thread.transferred` to the same end state.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from chat.db import accounts, space_queries, thread_queries
from chat.db.pool import Database
from chat.errors import NotFoundError
from chat.events import ThreadSnapshot
from chat.streams.log import StreamLog, ThreadAction


@dataclass(frozen=True, slots=True)
class ThreadCommands:
    """The thread commands over one stream log and database. Holds no state; does no I/O on
    construction, so callers may build one wherever they hold the two."""

    stream_log: StreamLog
    db: Database

    async def space_of(
        self, organization_id: str, thread_id: str, spaces: Collection[str] | None = None
    ) -> str:
        """Which of the organization's live spaces holds the thread; NotFoundError("no such
        thread") for an unknown thread, another organization's, or one of a deleted space.

        `spaces` are the organization's live space ids when the caller knows them (an agent
        session keeps them); otherwise they are read from PostgreSQL.

        The log is asked first: it holds the live state every command's script needs, and an
        EXISTS per space is cheap. PostgreSQL second: it knows threads whose log state is gone
        (expired and trimmed), whose history REST still serves; a command on such a thread gets
        the script's not_found.
        """
        if spaces is None:
            rows = await self.db.run(lambda c: space_queries.list_spaces(c, organization_id))
            spaces = [s.id for s in rows]
        space_id = await self.stream_log.space_holding_thread(spaces, thread_id)
        if space_id is not None:
            return space_id
        row = await self.db.run(
            lambda c: thread_queries.thread_with_visitor(c, organization_id, thread_id)
        )
        if row is None or row["space_id"] not in spaces:
            raise NotFoundError("no such thread")
        found: str = row["space_id"]
        return found

    async def do_claim(self, space_id: str, thread_id: str, *, agent_id: str) -> ThreadSnapshot:
        """Assign an unassigned thread to `agent_id`. Another agent's thread: AlreadyClaimedError
        (of concurrent claims exactly one wins); the holder's own claim is answered again."""
        return await self._change(space_id, thread_id, "claim", agent_id=agent_id)

    async def do_close(self, space_id: str, thread_id: str, *, agent_id: str) -> ThreadSnapshot:
        """Close an open thread (any agent of the organization may)."""
        return await self._change(space_id, thread_id, "close", agent_id=agent_id)

    async def do_transfer(
        self,
        space_id: str,
        thread_id: str,
        *,
        agent_id: str,
        organization_id: str,
        target_agent_id: str,
    ) -> ThreadSnapshot:
        """Hand the thread to another live agent of the organization. An unknown or deleted
        agent, or another organization's, is NotFoundError("no such agent")."""
        target = await self.db.run(
            lambda c: accounts.agent_by_id(c, organization_id, target_agent_id)
        )
        if target is None:
            raise NotFoundError("no such agent")
        return await self._change(
            space_id, thread_id, "transfer", agent_id=agent_id, target_agent_id=target.id
        )

    async def _change(
        self,
        space_id: str,
        thread_id: str,
        action: ThreadAction,
        *,
        agent_id: str,
        target_agent_id: str = "",
    ) -> ThreadSnapshot:
        snapshot = await self.stream_log.do_change_thread(
            space_id, thread_id, action, agent_id=agent_id, target_agent_id=target_agent_id
        )
        assert snapshot is not None  # only an expiry answers None
        return snapshot
