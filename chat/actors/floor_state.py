"""The floor of one organization as the log says it is now: per space and group, who waits and
since when, what is being served, who is present and how loaded, and the first responses of the
last hour (structures.md, "The floor view"; README "The floor view" defines every figure).

Plain data, no I/O: chat/actors/floor.py seeds it from one snapshot per space (and the hour's
earlier first responses from PostgreSQL), applies every later entry of the spaces' streams in
order, and renders it as the `floor` frame. Bounded: the open conversations, the present agents,
the first responses of the last hour, and a bounded memory of finished conversations.
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from chat.db.rows import AgentRow, GroupRow
from chat.events import LogEntry, MessagePosted, Presence, ThreadChanged, ThreadOpened
from chat.ids import ms_to_rfc3339, parse_id
from chat.json_types import Json
from chat.streams.floor import SpaceFloorSnapshot

# First responses are shown over this sliding window.
WINDOW_MS = 3_600_000
# Finished conversations whose "ever answered" the floor remembers, for a reopen: a visitor who
# comes back continues an old conversation, and one answered before gives no first response
# again (as in the reports). Past this many the oldest are forgotten, and a reopen of a
# conversation the floor does not remember counts as answered (no sample): ~100 bytes each.
KNOWN_FINISHED = 10_000


@dataclass
class _Open:
    """An open conversation (times in epoch ms)."""

    space_id: str
    group_id: str | None
    agent_id: str | None  # its holder; None while it waits
    created: int  # its start: what a first response is measured from
    waiting_since: int | None  # in the queue since then; None when held (or an email lead)
    queued: int | None  # the queue time it had when an agent got it: a requeue's place
    answered: bool  # an agent has written in it (ever)
    # The bot that got it first (structures.md, "Bots"): its messages are no first response.
    bot_agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    at_ms: int  # when the first agent message was written
    seconds: float  # how long after the conversation's start
    space_id: str
    group_id: str | None
    thread_id: str


@dataclass
class FloorState:
    """One organization's floor. `spaces`: its live spaces, id -> name."""

    spaces: dict[str, str]
    threads: dict[str, _Open] = field(default_factory=dict)
    present: dict[str, set[str]] = field(default_factory=dict)  # space -> agents heard online
    _samples: list[tuple[int, int, Sample]] = field(default_factory=list)  # a heap by time
    _sampled: set[str] = field(default_factory=set)  # thread ids in _samples: none twice
    _finished: OrderedDict[str, bool] = field(default_factory=OrderedDict)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def seed(self, space_id: str, snap: SpaceFloorSnapshot, answered: Iterable[str]) -> None:
        """The space as its snapshot says; `answered`: threads PostgreSQL knows an agent
        message of (a reopened conversation's state no longer says it was answered)."""
        ever = set(answered)
        self.present[space_id] = set(snap.present)
        for t in snap.threads:
            self.threads[t.id] = _Open(
                space_id,
                t.group_id,
                t.assigned_agent_id if t.status == "active" else None,
                t.created,
                t.waiting_since if t.status == "unassigned" else None,
                t.queued,
                t.replied or t.id in ever,
            )

    def add_sample(self, sample: Sample) -> None:
        """A first response; one per conversation, the first given wins."""
        if sample.thread_id in self._sampled:
            return
        self._sampled.add(sample.thread_id)
        heapq.heappush(self._samples, (sample.at_ms, next(self._seq), sample))

    def prune(self, now_ms: int) -> None:
        """Forget first responses older than the window."""
        while self._samples and self._samples[0][0] <= now_ms - WINDOW_MS:
            _, _, old = heapq.heappop(self._samples)
            self._sampled.discard(old.thread_id)

    def next_expiry_ms(self) -> int | None:
        """When the oldest first response leaves the window (None: there is none)."""
        return self._samples[0][0] + WINDOW_MS if self._samples else None

    def apply(self, space_id: str, entry: LogEntry) -> bool:
        """One entry of the space's stream, in order; whether the floor changed."""
        match entry.event:
            case ThreadOpened() | ThreadChanged():
                return self._thread_changed(space_id, entry)
            case MessagePosted(sender_type="agent") as m:
                found = self.threads.get(m.thread_id)
                if found is None or found.answered or m.sender_id == found.bot_agent_id:
                    return False  # a bot's answer is not a person's first response
                found.answered = True
                at = parse_id(entry.id)[0]
                self.add_sample(
                    Sample(at, (at - found.created) / 1000, space_id, found.group_id, m.thread_id)
                )
                return True
            case Presence() as p:
                agents = self.present.setdefault(space_id, set())
                before = p.agent_id in agents
                if p.online:
                    agents.add(p.agent_id)
                else:
                    agents.discard(p.agent_id)
                return before != p.online
        return False

    def _thread_changed(self, space_id: str, entry: LogEntry) -> bool:
        event = entry.event
        assert isinstance(event, ThreadOpened | ThreadChanged)
        t = event.thread
        prev = self.threads.get(t.id)
        if t.status in ("closed", "expired"):
            if prev is not None:
                del self.threads[t.id]
                self._remember(t.id, prev.answered)
            return prev is not None
        at = parse_id(entry.id)[0]
        if isinstance(event, ThreadOpened):
            answered = False
        elif prev is not None:
            answered = prev.answered
        else:  # reopened: answered before, unless the floor saw it finish unanswered
            answered = self._finished.pop(t.id, True)
        waiting_since = queued = None
        if t.status == "unassigned" and t.channel != "email":  # a lead waits for an email
            if prev is not None and prev.waiting_since is not None:
                waiting_since = prev.waiting_since  # still waiting (regrouped)
            elif isinstance(event, ThreadOpened):
                waiting_since = t.created
            elif event.type in ("thread.requeued", "thread.handed_over") and prev and prev.queued:
                waiting_since = prev.queued  # back at the place it had
            else:
                waiting_since = at
        elif prev is not None:
            queued = prev.waiting_since if prev.waiting_since is not None else prev.queued
        holder = t.assigned_agent_id if t.status == "active" else None
        self.threads[t.id] = _Open(
            space_id, t.group_id, holder, t.created, waiting_since, queued, answered, t.bot_agent_id
        )
        return True

    def _remember(self, thread_id: str, answered: bool) -> None:
        self._finished[thread_id] = answered
        self._finished.move_to_end(thread_id)
        while len(self._finished) > KNOWN_FINISHED:
            self._finished.popitem(last=False)

    def present_agents(self) -> set[str]:
        """Every agent present in some space of the organization."""
        return {a for present in self.present.values() for a in present}

    def loads(self) -> dict[str, int]:
        """Agent id -> the open conversations it holds in the organization's live spaces."""
        loads: dict[str, int] = {}
        for t in self.threads.values():
            if t.agent_id is not None:
                loads[t.agent_id] = loads.get(t.agent_id, 0) + 1
        return loads

    def view(
        self, now_ms: int, agents: Mapping[str, AgentRow], groups: Mapping[str, GroupRow]
    ) -> Json:
        """The `floor` frame: the organization's total, each space and its groups, each agent."""
        self.prune(now_ms)
        samples = [s for _, _, s in self._samples]
        everyone = self.present_agents() & agents.keys()
        # One pass over the conversations and the samples, by space and by (space, group).
        by_space: dict[str, tuple[list[_Open], list[Sample]]] = {}
        by_group: dict[tuple[str, str | None], tuple[list[_Open], list[Sample]]] = {}
        for t in self.threads.values():
            by_space.setdefault(t.space_id, ([], []))[0].append(t)
            by_group.setdefault((t.space_id, t.group_id), ([], []))[0].append(t)
        for s in samples:
            by_space.setdefault(s.space_id, ([], []))[1].append(s)
            by_group.setdefault((s.space_id, s.group_id), ([], []))[1].append(s)
        spaces = []
        for space_id, name in sorted(self.spaces.items(), key=lambda item: item[1].lower()):
            present = self.present.get(space_id, set()) & agents.keys()
            in_space, answered = by_space.get(space_id, ([], []))
            rows = []
            for group_id, group_name, members in _buckets(groups, in_space, answered):
                threads, group_samples = by_group.get((space_id, group_id), ([], []))
                row_agents = present if members is None else present & members
                if group_id is not None and not (threads or group_samples or row_agents):
                    continue  # nothing to show: a group with nobody and nothing here
                rows.append(
                    {
                        "group_id": group_id,
                        "name": group_name,
                        **_figures(threads, group_samples, row_agents, agents),
                    }
                )
            figures = _figures(in_space, answered, present, agents)
            spaces.append({"space_id": space_id, "name": name, **figures, "groups": rows})
        loads = self.loads()
        return {
            "type": "floor",
            "at": ms_to_rfc3339(now_ms),
            "window_seconds": WINDOW_MS // 1000,
            "total": _figures(list(self.threads.values()), samples, everyone, agents),
            "spaces": spaces,
            "agents": [
                _agent_json(a, a.id in everyone, loads.get(a.id, 0))
                for a in sorted(agents.values(), key=lambda a: (a.name.lower(), a.id))
                if not a.is_bot  # people only: a bot is never an agent online or away
            ],
        }


def _buckets(
    groups: Mapping[str, GroupRow], threads: list[_Open], samples: list[Sample]
) -> list[tuple[str | None, str | None, set[str] | None]]:
    """A space's candidate rows: every live group of the organization (name order), any other
    group a conversation here is in (a group deleted meanwhile: no name), then "no group" (the
    whole team: members None). The view leaves out groups with nothing to show."""
    rows: list[tuple[str | None, str | None, set[str] | None]] = [
        (g.id, g.name, set(g.agent_ids))
        for g in sorted(groups.values(), key=lambda g: (g.name.lower(), g.id))
    ]
    others = {t.group_id for t in threads} | {s.group_id for s in samples}
    rows += [(g, None, set()) for g in sorted(o for o in others if o and o not in groups)]
    rows.append((None, None, None))
    return rows


def _figures(
    threads: list[_Open], samples: list[Sample], present: set[str], agents: Mapping[str, AgentRow]
) -> Json:
    waiting = [t.waiting_since for t in threads if t.waiting_since is not None]
    online = sum(1 for a in present if agents[a].accepting_chats)
    seconds = sorted(s.seconds for s in samples)
    return {
        "waiting": len(waiting),
        "longest_waiting_since": ms_to_rfc3339(min(waiting)) if waiting else None,
        "active": sum(1 for t in threads if t.agent_id is not None),
        "agents_online": online,
        "agents_away": len(present) - online,
        "first_response": {
            "count": len(seconds),
            "median_seconds": percentile(seconds, 0.5),
            "p90_seconds": percentile(seconds, 0.9),
        },
    }


def _agent_json(agent: AgentRow, present: bool, load: int) -> Json:
    """An agent's line; `present`: in some space of the organization (each space's rows count
    their own; an agent's sockets heartbeat every space it was welcomed with)."""
    status = "offline" if not present else "online" if agent.accepting_chats else "away"
    return {
        "id": agent.id,
        "name": agent.name,
        "role": agent.role,
        "status": status,
        "load": load,
        "capacity": agent.max_concurrent_chats,
        "group_ids": list(agent.group_ids),
    }


def percentile(ordered: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over sorted values (linear between the two nearest ranks),
    as the reports compute theirs; tenths of a second; None for no values."""
    if not ordered:
        return None
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return round(value, 1)
