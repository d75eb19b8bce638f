"""Thread commands: find which of an organization's spaces holds a thread, and claim, close,
transfer or reopen it. REST (chat/http/api/threads.py) and the agent socket (chat/actors/agent.py)
both call these, so both find a thread the same way and answer the same errors.

Who may do what (structures.md, "Thread commands by role"): any agent claims a waiting
(unassigned) thread and may close one (triage of spam in the queue); only the holder or a
supervisor (admins are supervisors too, chat/auth/roles.py) closes or transfers an assigned
thread, which is how a supervisor takes a conversation over (a transfer to themselves) or
reassigns it; only a supervisor assigns a waiting thread by transfer (agents claim). A transfer
respects the target's availability (`accepting_chats`) and capacity (`max_concurrent_chats`)
unless a supervisor forces it. The holder is checked inside the script, in
the same step as the change, so a claim cannot slip between the check and the change.

Each `do_*` is one atomic script on the space's log (chat/streams/lua.py): of concurrent claims
exactly one wins. Cancellation: a cancelled `do_*` may still have been applied (the script ran,
the reply was lost). A retried claim by the holder is answered with the thread again and a
retried close with thread_closed; a retried transfer to the same agent appends a second
`thread.transferred` to the same end state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, replace

import psycopg
import trio

from chat.auth.roles import supervises
from chat.commands.directory import Directory
from chat.db import accounts, space_queries, thread_queries
from chat.db.pool import Database
from chat.db.rows import AgentRow
from chat.errors import (
    AgentAtCapacityError,
    AgentUnavailableError,
    ForbiddenError,
    NotFoundError,
)
from chat.events import ThreadSnapshot
from chat.streams.log import StreamLog, ThreadAction
from chat.streams.routing import RoutingLog, load_member

# The cap of a supervisor's forced transfer: none.
NO_CAP = -1


@dataclass(frozen=True, slots=True)
class Actor:
    """Who runs a command: the agent and whether it supervises (a supervisor or an admin of its
    organization: either may act on conversations it does not hold)."""

    agent_id: str
    organization_id: str
    supervises: bool
    # From the row the caller holds (a socket's may be older): what capacity and the visitor's
    # agent name fall back to while PostgreSQL does not answer.
    max_concurrent_chats: int = 0
    name: str = ""
    # A bot (structures.md, "Bots"): it answers the conversations it gets first, and takes none.
    bot: bool = False

    @classmethod
    def of(cls, agent: AgentRow) -> Actor:
        return cls(
            agent.id,
            agent.organization_id,
            supervises(agent.role),
            agent.max_concurrent_chats,
            agent.name,
            agent.is_bot,
        )


@dataclass(frozen=True, slots=True)
class ThreadCommands:
    """The thread commands over one stream log and database. Holds no state; does no I/O on
    construction, so callers may build one wherever they hold the two."""

    stream_log: StreamLog
    db: Database
    routing: RoutingLog
    directory: Directory

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

    async def do_claim(self, space_id: str, thread_id: str, *, actor: Actor) -> ThreadSnapshot:
        """Assign an unassigned thread to the actor. Another agent's thread: AlreadyClaimedError
        (of concurrent claims exactly one wins); the holder's own claim is answered again. An
        agent holding `max_concurrent_chats` conversations already: AgentAtCapacityError. A
        person may claim a conversation a bot holds (taking it over); a bot claims nothing
        (ForbiddenError)."""
        if actor.bot:
            raise ForbiddenError("a bot answers the conversations it gets first; it claims none")
        own = await self._own(actor)
        return await self._with_slot(
            space_id,
            thread_id,
            own.organization_id,
            own.agent_id,
            own.max_concurrent_chats,
            lambda: self._change(space_id, thread_id, "claim", own, agent_name=own.name),
        )

    async def do_close(self, space_id: str, thread_id: str, *, actor: Actor) -> ThreadSnapshot:
        """Close an open thread: a waiting one by any agent, an assigned one by its holder or an
        supervisor (NotHolderError, `forbidden`, for anyone else)."""
        snapshot = await self._change(space_id, thread_id, "close", await self._live(actor))
        await self._release(space_id, actor.organization_id, thread_id, snapshot.assigned_agent_id)
        return snapshot

    async def do_reopen(self, space_id: str, thread_id: str, *, actor: Actor) -> ThreadSnapshot:
        """Reopen a closed or expired thread, held by the actor from now on (any agent of the
        organization, like a claim). An open thread is answered as it is; VisitorBusyError
        when its visitor has opened another conversation since; not_found once the log has
        forgotten the thread (its state outlives the close by the longest reopen window).
        Counts against the agent's capacity like a claim. A bot reopens nothing (ForbiddenError)."""
        if actor.bot:
            raise ForbiddenError("a bot answers the conversations it gets first; it reopens none")
        own = await self._own(actor)
        return await self._with_slot(
            space_id,
            thread_id,
            own.organization_id,
            own.agent_id,
            own.max_concurrent_chats,
            lambda: self._change(space_id, thread_id, "reopen", own, agent_name=own.name),
        )

    async def _with_slot(
        self,
        space_id: str,
        thread_id: str,
        organization_id: str,
        agent_id: str,
        cap: int,
        change: Callable[[], Awaitable[ThreadSnapshot]],
    ) -> ThreadSnapshot:
        """Reserve the agent's slot for the thread (structures.md, "Routing"), then change;
        a change that fails gives back the slot it took."""
        member = load_member(space_id, thread_id)
        reserved = await self.routing.reserve(organization_id, agent_id, member, cap)
        if reserved is None:
            raise AgentAtCapacityError(
                f"that agent already has {cap} active chats, the most allowed"
            )
        try:
            return await change()
        except BaseException:
            if reserved.added:
                with trio.CancelScope(shield=True):
                    await self.routing.release(organization_id, agent_id, member)
            raise

    async def _own(self, actor: Actor) -> Actor:
        """The actor with its capacity and name as the organization's directory has them now;
        as its row had them while PostgreSQL does not answer (agents keep working then)."""
        try:
            found = await self.directory.agent(actor.organization_id, actor.agent_id)
        except psycopg.OperationalError:
            return actor
        if found is None:
            return replace(actor, max_concurrent_chats=0)
        return replace(actor, max_concurrent_chats=found.max_concurrent_chats, name=found.name)

    async def _release(
        self, space_id: str, organization_id: str, thread_id: str, agent_id: str | None
    ) -> None:
        if agent_id:
            await self.routing.release(organization_id, agent_id, load_member(space_id, thread_id))

    async def _live(self, actor: Actor) -> Actor:
        """An actor claiming to supervise, as its row says now: an agent socket holds the row
        it connected with, and a demotion since must not leave it a supervisor's powers."""
        if not actor.supervises:
            return actor
        row = await self.db.run(
            lambda c: accounts.agent_by_id(c, actor.organization_id, actor.agent_id)
        )
        return replace(actor, supervises=row is not None and supervises(row.role))

    async def do_transfer(
        self,
        space_id: str,
        thread_id: str,
        *,
        actor: Actor,
        target_agent_id: str,
        force: bool = False,
    ) -> ThreadSnapshot:
        """Hand the thread to another live agent of the organization.

        The holder or a supervisor transfers an assigned thread (a supervisor's transfer to
        themselves is a take-over); only a supervisor a waiting one (NotHolderError,
        `forbidden`). An unknown or deleted agent, or another organization's, is
        NotFoundError("no such agent"). A target not accepting chats is AgentUnavailableError,
        one holding `max_concurrent_chats` active threads AgentAtCapacityError, unless a
        supervisor sets `force` (ForbiddenError for anyone else).
        """
        actor = await self._live(actor)
        if force and not actor.supervises:
            raise ForbiddenError("only a supervisor or an admin may force a transfer")
        org = actor.organization_id
        target = await self.db.run(lambda c: accounts.agent_by_id(c, org, target_agent_id))
        if target is None:
            raise NotFoundError("no such agent")
        if target.is_bot:  # a bot gets conversations first only (structures.md, "Bots")
            raise ForbiddenError("a conversation goes to a bot only when it opens")
        if not force and target.id != actor.agent_id and not target.accepting_chats:
            raise AgentUnavailableError(f"{target.name} is not accepting chats")
        before = await self.stream_log.thread_state(space_id, thread_id)
        snapshot = await self._with_slot(
            space_id,
            thread_id,
            org,
            target.id,
            NO_CAP if force else target.max_concurrent_chats,
            lambda: self._change(
                space_id,
                thread_id,
                "transfer",
                actor,
                target_agent_id=target.id,
                agent_name=target.name,
            ),
        )
        holder = before.assigned_agent_id if before else None
        if holder != target.id:
            await self._release(space_id, org, thread_id, holder)
        return snapshot

    async def _change(
        self,
        space_id: str,
        thread_id: str,
        action: ThreadAction,
        actor: Actor,
        *,
        target_agent_id: str = "",
        agent_name: str = "",
    ) -> ThreadSnapshot:
        """`agent_name`: the display name of who holds the thread after a claim, transfer or
        reopen (the visitor sees it)."""
        snapshot = await self.stream_log.do_change_thread(
            space_id,
            thread_id,
            action,
            agent_id=actor.agent_id,
            target_agent_id=target_agent_id,
            holder_only=not actor.supervises,
            agent_name=agent_name,
        )
        assert snapshot is not None  # only an expiry answers None
        return snapshot
