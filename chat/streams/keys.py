"""Key builders. Every key of a space carries `{space_id}` as a Redis Cluster hash tag.

The layout is documented in structures.md ("Stream layout"); change both together.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SpaceKeys:
    """The keys of one space, under the deployment's prefix."""

    prefix: str
    space_id: str

    @property
    def base(self) -> str:
        """Lua scripts derive a space's other keys from this base."""
        return f"{self.prefix}:{{{self.space_id}}}:"

    @property
    def events(self) -> str:
        return self.base + "events"

    @property
    def appended(self) -> str:
        """The shard channel each append to `events` publishes its id on (a channel, not a key:
        chat/streams/lua_wake.py)."""
        return self.base + "appended"

    def thread(self, thread_id: str) -> str:
        return self.base + "t:" + thread_id

    def thread_state(self, thread_id: str) -> str:
        return self.base + "th:" + thread_id

    def visitor(self, visitor_id: str) -> str:
        return self.base + "v:" + visitor_id

    @property
    def open_threads(self) -> str:
        return self.base + "open"

    @property
    def waiting(self) -> str:
        """Unassigned open threads, scored by when each started waiting (the queue)."""
        return self.base + "waiting"

    @property
    def answered(self) -> str:
        """Open threads whose last message is an agent's, scored by its time (idle close)."""
        return self.base + "answered"

    @property
    def dead_letters(self) -> str:
        return self.base + "dead"

    @property
    def online(self) -> str:
        return self.base + "online"

    @property
    def viewing(self) -> str:
        """Which thread each agent socket has open (chat/streams/viewing.py)."""
        return self.base + "viewing"


def node_wake_key(prefix: str, node_id: str) -> str:
    """A node's private stream that wakes its reader when its set of streams changes (one
    server; a cluster's reader is woken by the appends' shard channels: SpaceKeys.appended)."""
    return f"{prefix}:node:{node_id}:wake"


def control_key(prefix: str) -> str:
    """The deployment's control stream: revocations every process acts on (chat/streams/control.py).

    It belongs to no space, so it has no hash tag; in a cluster it lives in a slot of its own,
    which is fine: it is always read and written alone, never with another key.
    """
    return f"{prefix}:control"


PROJECTOR_GROUP = "projector"
# The router's consumer group on each space stream (chat/actors/router.py).
ROUTER_GROUP = "router"
# The webhook ingest's consumer group on each space stream (chat/actors/webhook_ingest.py).
WEBHOOKS_GROUP = "webhooks"
# The built-in rules bot's consumer group on each space stream (chat/actors/rules_bot.py).
RULES_BOT_GROUP = "rulesbot"
