"""An agent socket's viewing presence: which conversation its console has open, told to the
space's agents (chat/streams/viewing.py; structures.md, "Viewing presence").

The console says so with `viewing` frames. They are paced per socket: at most one write a
second, the latest wish winning, so an agent clicking through twenty conversations writes two
or three changes to the log, and always the last one. One task, `run_writer`, writes them, in
the session's nursery; the heartbeat refreshes what was written (a field not refreshed within
the presence TTL is stale) and leaving clears it.

Crash policy: a Redis error in a write is logged and the write is tried again one interval
later (the latest wish still wins); a failed clear on leaving is left to the presence sweep,
which removes the stale field after the TTL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NoReturn

import trio

from chat.actors.pacing import Paced
from chat.streams.errors import StreamLogError
from chat.streams.viewing import Viewing

logger = logging.getLogger(__name__)
# A socket's viewing changes are written at most once per this long (the latest wins).
VIEWING_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Viewed:
    """A thread of a space that a socket has open; both None: none."""

    space_id: str | None
    thread_id: str | None


NOTHING = Viewed(None, None)


@dataclass(eq=False)
class ViewingPresence:
    """One agent socket's open conversation, as wished by its frames and as written."""

    viewing: Viewing
    agent_id: str
    socket_id: str
    wanted: Paced[Viewed] = field(default_factory=lambda: Paced(VIEWING_INTERVAL_SECONDS))
    written: Viewed = NOTHING  # what the log holds for this socket
    # A write in flight when the session ends may or may not have run: leaving clears it too.
    _writing: Viewed = NOTHING
    # Writes, refreshes and the clear on leaving are one at a time, so a refresh never brings
    # back a thread the writer has just left.
    _lock: trio.Lock = field(default_factory=trio.Lock)

    def want(self, viewed: Viewed) -> None:
        """The socket views this now; written by `run_writer` within the pace."""
        self.wanted.put(viewed)

    async def run_writer(self) -> NoReturn:
        """Write each wish (paced) until cancelled; a cancelled write may or may not have run
        (`leave` clears it either way)."""
        while True:
            wanted = await self.wanted.take()
            try:
                async with self._lock:
                    await self._write(wanted)
            except (StreamLogError, OSError) as exc:
                logger.warning("agent %s: viewing not written: %r", self.agent_id, exc)
                # Again after one interval, unless a newer wish came meanwhile.
                self.wanted.put(self.wanted.take_now() or wanted)

    async def _write(self, wanted: Viewed) -> None:
        if wanted == self.written:
            return
        self._writing = wanted
        old = self.written.space_id
        if old is not None and old != wanted.space_id:
            await self.viewing.do_view(old, self.agent_id, self.socket_id, None)
            self.written = NOTHING
        if wanted.space_id is not None:
            await self.viewing.do_view(
                wanted.space_id, self.agent_id, self.socket_id, wanted.thread_id
            )
        self.written = wanted

    async def refresh(self) -> None:
        """The socket is alive (its heartbeat): keep what it views from going stale."""
        async with self._lock:
            if (space_id := self.written.space_id) is not None:
                await self.viewing.do_view(
                    space_id, self.agent_id, self.socket_id, self.written.thread_id
                )

    async def leave(self) -> None:
        """The socket closed: it views nothing any more. Best effort (the TTL is the net)."""
        async with self._lock:
            for space_id in {self.written.space_id, self._writing.space_id} - {None}:
                assert space_id is not None
                try:
                    await self.viewing.do_view(space_id, self.agent_id, self.socket_id, None)
                except (StreamLogError, OSError):
                    logger.warning("agent %s: viewing not cleared; the sweep will", self.agent_id)
            self.written = self._writing = NOTHING
