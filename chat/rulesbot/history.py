"""The rules bot's part of a thread's stream (structures.md, "Built-in bot"): which entry is the
bot's to answer, and what the engine replays for it. Pure: the actor (chat/actors/rules_bot.py)
reads the stream and hands it over.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.events import LogEntry, MessagePosted, ThreadChanged, ThreadOpened
from chat.rulesbot.engine import Known


@dataclass(frozen=True, slots=True)
class Conversation:
    known: Known
    opening: list[str]  # the visitor's messages since the last change before the bot took it
    later: list[str]  # the visitor's messages since, up to the trigger


def conversation(history: list[LogEntry], bot_id: str, trigger: str) -> Conversation | None:
    """The bot's part of a thread's stream ending at `trigger`, or None when the trigger is not
    the bot's to answer: a message while it did not hold the thread, or a change that did not
    give it the thread (it held it already).

    A conversation given to the bot before the visitor wrote in it (bot-first routing assigns
    it in the opening step, before the opening message) starts at the visitor's first message,
    which is its opening; one given to the bot later (a transfer) starts at that change, the
    visitor's messages since the change before being its opening."""
    known = Known()
    since_change: list[str] = []
    opening: list[str] = []
    later: list[str] = []
    holding = waiting_first = answers = False
    for entry in history:
        event = entry.event
        answers = False
        if isinstance(event, ThreadOpened | ThreadChanged):
            if isinstance(event, ThreadOpened):
                known = Known(event.visitor.name, event.visitor.email)
            held = event.thread.status == "active" and event.thread.assigned_agent_id == bot_id
            if held and not holding:
                opening, later = list(since_change), []
                # Greet now, answering what the visitor wrote while it waited; with nothing
                # written yet (bot first: the opening step), at the first message.
                waiting_first = not since_change
                answers = not waiting_first
            holding, since_change = held, []
        elif isinstance(event, MessagePosted) and event.sender_type == "visitor":
            since_change.append(event.content)
            if holding and waiting_first:
                opening, waiting_first = [event.content], False
            elif holding:
                later.append(event.content)
            answers = holding
    if not history or history[-1].id != trigger or not answers:
        return None
    return Conversation(known, opening, later)
