"""The rules bot's part of a thread's stream (chat/rulesbot/history.py): which
entries are its triggers, and what it replays for each."""

from __future__ import annotations

from chat.events import (
    LogEntry,
    MessagePosted,
    ThreadChanged,
    ThreadOpened,
    ThreadSnapshot,
    VisitorInfo,
)
from chat.rulesbot.engine import Known
from chat.rulesbot.history import conversation

BOT, PERSON = "bot-1", "person-1"


def _snap(status: str = "unassigned", holder: str | None = None) -> ThreadSnapshot:
    return ThreadSnapshot.model_validate(
        {
            "id": "t",
            "space_id": "s",
            "visitor_id": "v",
            "status": status,
            "assigned_agent_id": holder,
            "created": 1,
            "last": 1,
        }
    )


def opened(n: int, name: str | None = None) -> LogEntry:
    event = ThreadOpened(thread=_snap(), visitor=VisitorInfo(id="v", name=name))
    return LogEntry(f"{n}-0", event)


def changed(n: int, kind: str, holder: str | None) -> LogEntry:
    status = "active" if holder else "unassigned"
    return LogEntry(f"{n}-0", ThreadChanged(type=kind, thread=_snap(status, holder)))  # type: ignore[arg-type]


def said(n: int, text: str, sender: str = "visitor") -> LogEntry:
    event = MessagePosted(
        thread_id="t",
        sender_type=sender,
        sender_id="x",
        sender_name="X",  # type: ignore[arg-type]
        content=text,
        client_id=f"c{n}",
    )
    return LogEntry(f"{n}-0", event)


BOT_FIRST = [opened(1, "Ada"), changed(2, "thread.assigned", BOT), said(3, "hello")]


def test_bot_first_starts_at_the_opening_message() -> None:
    assert conversation(BOT_FIRST[:2], BOT, "2-0") is None  # the assignment: wait for words
    talk = conversation(BOT_FIRST, BOT, "3-0")
    assert talk is not None
    assert (talk.known, talk.opening, talk.later) == (Known("Ada"), ["hello"], [])


def test_later_messages_replay_after_the_opening() -> None:
    history = [*BOT_FIRST, said(4, "Hi!", "agent"), said(5, "pricing"), said(6, "more")]
    talk = conversation(history, BOT, "6-0")
    assert talk is not None and (talk.opening, talk.later) == (["hello"], ["pricing", "more"])
    assert conversation(history[:5], BOT, "5-0").later == ["pricing"]  # type: ignore[union-attr]
    assert conversation(history[:4], BOT, "4-0") is None  # its own message is no trigger


def test_a_transfer_to_the_bot_greets_at_once_with_what_waited() -> None:
    history = [
        opened(1),
        said(2, "anyone?"),
        said(3, "price?"),
        changed(4, "thread.transferred", BOT),
    ]
    talk = conversation(history, BOT, "4-0")
    assert talk is not None and (talk.opening, talk.later) == (["anyone?", "price?"], [])


def test_nothing_once_another_holds_it() -> None:
    history = [*BOT_FIRST, changed(4, "thread.handed_over", None), said(5, "still there?")]
    assert conversation(history, BOT, "5-0") is None
    history += [changed(6, "thread.claimed", PERSON), said(7, "hi")]
    assert conversation(history, BOT, "7-0") is None
    assert conversation(BOT_FIRST, PERSON, "3-0") is None  # not this bot's


def test_the_trigger_must_end_the_history() -> None:
    assert conversation(BOT_FIRST, BOT, "2-0") is None
    assert conversation([], BOT, "1-0") is None
