"""The floor's arithmetic (chat/actors/floor_state.py), entry by entry: what waits and since
when, what is held and by whom, first responses and their window, percentiles as PostgreSQL's
percentile_cont computes them. The service's end-to-end figures: tests/actors/test_floor.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chat.actors.floor_state import WINDOW_MS, FloorState, percentile
from chat.db.rows import AgentRow, GroupRow
from chat.events import (
    LogEntry,
    MessagePosted,
    Presence,
    ThreadChanged,
    ThreadOpened,
    ThreadSnapshot,
    VisitorInfo,
)
from chat.ids import ms_to_rfc3339
from chat.streams.floor import FloorThread, SpaceFloorSnapshot

S = "11111111-1111-4111-8111-111111111111"
G = "22222222-2222-4222-8222-222222222222"
HAL, TIA = "hal", "tia"
T0 = 1_700_000_000_000


def _agent(agent_id: str, accepting: bool = True, cap: int = 2) -> AgentRow:
    now = datetime.now(UTC)
    return AgentRow(agent_id, "o", f"{agent_id}@x", agent_id.title(), "agent", accepting, cap,
                    None, now, "", [G] if agent_id == HAL else [])  # fmt: skip


AGENTS = {HAL: _agent(HAL), TIA: _agent(TIA, accepting=False)}
EMPTY = "33333333-3333-4333-8333-333333333333"  # nobody in it, nothing routed to it: not listed
GROUPS = {
    G: GroupRow(G, "o", "Sales", "manual", False, datetime.now(UTC), [HAL]),
    EMPTY: GroupRow(EMPTY, "o", "Support", "manual", False, datetime.now(UTC), []),
}


def _snap(thread_id: str, status: str, **extra: Any) -> ThreadSnapshot:
    fields: dict[str, Any] = {"created": T0, "last": T0, "group_id": G, **extra}
    return ThreadSnapshot(id=thread_id, space_id=S, visitor_id="v" + thread_id, status=status,
                          **fields)  # type: ignore[arg-type]  # fmt: skip


def _opened(ms: int, thread_id: str) -> LogEntry:
    snap = _snap(thread_id, "unassigned", created=ms, last=ms)
    return LogEntry(f"{ms}-0", ThreadOpened(thread=snap, visitor=VisitorInfo(id="v")))


def _changed(ms: int, kind: str, thread_id: str, status: str, agent: str | None) -> LogEntry:
    snap = _snap(thread_id, status, assigned_agent_id=agent)
    return LogEntry(f"{ms}-0", ThreadChanged(type=kind, thread=snap))  # type: ignore[arg-type]


def _said(ms: int, thread_id: str, sender: str) -> LogEntry:
    message = MessagePosted(thread_id=thread_id, sender_type=sender, sender_id="x",  # type: ignore[arg-type]
                            sender_name="X", content="hi", client_id=str(ms))  # fmt: skip
    return LogEntry(f"{ms}-0", message)


def _space(state: FloorState, now: int) -> dict[str, Any]:
    space: dict[str, Any] = state.view(now, AGENTS, GROUPS)["spaces"][0]
    return space


def test_waiting_held_answered_and_the_window() -> None:
    state = FloorState({S: "Shop"})
    state.seed(S, SpaceFloorSnapshot("0-0", [], frozenset()), ())
    for entry in (
        _opened(T0, "a"),
        _opened(T0 + 5_000, "b"),
        LogEntry(f"{T0 + 6_000}-0", Presence(agent_id=HAL, online=True, any_online=True)),
        LogEntry(f"{T0 + 6_001}-0", Presence(agent_id=TIA, online=True, any_online=True)),
    ):
        assert state.apply(S, entry)
    space = _space(state, T0 + 10_000)
    assert (space["waiting"], space["active"]) == (2, 0)
    assert space["longest_waiting_since"] == ms_to_rfc3339(T0)
    assert (space["agents_online"], space["agents_away"]) == (1, 1)

    state.apply(S, _changed(T0 + 20_000, "thread.claimed", "a", "active", HAL))
    state.apply(S, _said(T0 + 30_000, "a", "visitor"))  # not an answer
    state.apply(S, _said(T0 + 32_500, "a", "agent"))  # the first response: 32.5 s
    state.apply(S, _said(T0 + 40_000, "a", "agent"))  # a second answer counts nothing
    space = _space(state, T0 + 41_000)
    assert (space["waiting"], space["active"]) == (1, 1)
    assert space["longest_waiting_since"] == ms_to_rfc3339(T0 + 5_000)
    assert space["first_response"] == {"count": 1, "median_seconds": 32.5, "p90_seconds": 32.5}
    sales, no_group = space["groups"]  # Support has nothing to show here
    assert (sales["name"], sales["waiting"], sales["active"]) == ("Sales", 1, 1)
    assert (sales["agents_online"], sales["agents_away"]) == (1, 0)  # Tia is no member
    assert (no_group["group_id"], no_group["waiting"]) == (None, 0)
    agents = {a["id"]: a for a in state.view(T0, AGENTS, GROUPS)["agents"]}
    assert (agents[HAL]["status"], agents[HAL]["load"], agents[HAL]["capacity"]) == ("online", 1, 2)
    assert agents[TIA]["status"] == "away"

    # A requeue puts b back at its place; a close ends a's hold; the hour passes.
    state.apply(S, _changed(T0 + 50_000, "thread.claimed", "b", "active", TIA))
    state.apply(S, _changed(T0 + 60_000, "thread.requeued", "b", "unassigned", None))
    state.apply(S, _changed(T0 + 70_000, "thread.closed", "a", "closed", HAL))
    space = _space(state, T0 + 71_000)
    assert (space["waiting"], space["active"]) == (1, 0)
    assert space["longest_waiting_since"] == ms_to_rfc3339(T0 + 5_000)
    assert state.next_expiry_ms() == T0 + 32_500 + WINDOW_MS
    space = _space(state, T0 + 32_500 + WINDOW_MS)
    assert space["first_response"] == {"count": 0, "median_seconds": None, "p90_seconds": None}

    # a reopens: it was answered, so its next answer is no first response.
    state.apply(S, _changed(T0 + 80_000, "thread.reopened", "a", "unassigned", None))
    state.apply(S, _changed(T0 + 81_000, "thread.claimed", "a", "active", HAL))
    assert not state.apply(S, _said(T0 + 90_000, "a", "agent"))


def test_a_snapshot_seeds_the_floor() -> None:
    state = FloorState({S: "Shop"})
    threads = [
        FloorThread("w", "unassigned", None, None, T0, T0 + 1, None, False),
        FloorThread("h", "active", G, HAL, T0, None, T0 + 2, False),
        FloorThread("r", "active", G, HAL, T0, None, None, True),
    ]
    state.seed(S, SpaceFloorSnapshot("5-0", threads, frozenset({HAL})), ["h"])
    space = _space(state, T0 + 10)
    assert (space["waiting"], space["active"], space["agents_online"]) == (1, 2, 1)
    assert space["longest_waiting_since"] == ms_to_rfc3339(T0 + 1)
    # h and r were answered before (PostgreSQL, the state): no first response from them.
    assert not state.apply(S, _said(T0 + 20, "h", "agent"))
    assert not state.apply(S, _said(T0 + 20, "r", "agent"))
    # A requeue of h goes back to the time it had queued since.
    state.apply(S, _changed(T0 + 30, "thread.requeued", "h", "unassigned", None))
    assert _space(state, T0 + 40)["longest_waiting_since"] == ms_to_rfc3339(T0 + 1)
    state.apply(S, _changed(T0 + 50, "thread.claimed", "w", "active", HAL))
    assert _space(state, T0 + 60)["longest_waiting_since"] == ms_to_rfc3339(T0 + 2)


def test_percentiles_are_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.9) == 4.0
    assert percentile([1.0, 2.0, 10.0, 20.0], 0.5) == 6.0  # halfway between 2 and 10
    assert percentile([1.0, 2.0, 10.0, 20.0], 0.9) == 17.0  # rank 2.7: 10 + 0.7 * 10


def test_a_bots_answer_is_no_first_response_and_its_handover_keeps_the_place() -> None:
    """A bot answers first (README "Bots"): its message is no first response, its handover puts
    the conversation back at the place it had when it opened, a person's answer then counts
    from the start, and the bot is in no agent line."""
    bot = "robo"
    agents = {**AGENTS, bot: replace(_agent(bot), kind="bot", accepting_chats=False)}
    state = FloorState({S: "Shop"})
    state.seed(S, SpaceFloorSnapshot("0-0", [], frozenset({HAL})), ())

    def to(ms: int, kind: str, status: str, agent: str | None) -> LogEntry:
        snap = _snap("a", status, assigned_agent_id=agent, bot_agent_id=bot)
        return LogEntry(f"{ms}-0", ThreadChanged(type=kind, thread=snap))  # type: ignore[arg-type]

    bot_said = MessagePosted(thread_id="a", sender_type="agent", sender_id=bot,
                             sender_name="Robo", content="hi", client_id="b1")  # fmt: skip
    state.apply(S, _opened(T0, "a"))
    state.apply(S, to(T0, "thread.assigned", "active", bot))
    assert not state.apply(S, LogEntry(f"{T0 + 2_000}-0", bot_said))
    state.apply(S, to(T0 + 9_000, "thread.handed_over", "unassigned", None))
    space = state.view(T0 + 9_500, agents, GROUPS)["spaces"][0]
    assert space["longest_waiting_since"] == ms_to_rfc3339(T0)
    state.apply(S, to(T0 + 10_000, "thread.claimed", "active", HAL))
    assert state.apply(S, _said(T0 + 12_000, "a", "agent"))
    view = state.view(T0 + 13_000, agents, GROUPS)
    assert view["spaces"][0]["first_response"]["median_seconds"] == 12.0
    assert bot not in {a["id"] for a in view["agents"]}
