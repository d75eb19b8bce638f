"""The built-in rules bot's conversation, as pure functions (structures.md, "Built-in bot").

A conversation with the bot is a fold over the visitor's messages since the bot took it:
`start` (the greeting, and an answer to the message that opened the conversation when it asks
something the bot knows) and then `step` per message. Nothing here remembers anything between
calls: the actor (chat/actors/rules_bot.py) replays the conversation from the log each time a
visitor writes, so a restarted process, or another process, reaches the same state and says the
same thing, under the same client_ids (stored once).

What the bot does is a list of actions: `Say` (a message, with quick replies), `Identify` (the
name or email it collected, stored like the widget's identify frame) and `HandOver` (to people,
through routing). The actor performs them in order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from chat.protocol.inbound import MAX_NAME_CHARS, clean_name
from chat.rulesbot.rules import BotRules, Button

Stage = Literal["chatting", "ask_name", "ask_email", "done"]
# Why the bot hands over: the visitor asked for a person, or the bot gave up (misses).
HandOverReason = Literal["asked", "gave_up"]

# The email the bot accepts: one @, a dot in the domain, no spaces; the widget's identify frame
# accepts a little more (no dot needed), so anything valid here is valid there.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
MAX_EMAIL_CHARS = 254
# A keyword matches a longer word only by a short ending ("price" finds "prices", "priced"):
# plurals and tenses without a stemmer, and not "art" in "artificial".
_MAX_ENDING = 3


@dataclass(frozen=True, slots=True)
class Say:
    content: str
    quick_replies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Identify:
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class HandOver:
    reason: HandOverReason


Action = Say | Identify | HandOver


@dataclass(frozen=True, slots=True)
class Known:
    """What the visitor had told before the bot took the conversation (the pre-chat form)."""

    name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class BotState:
    stage: Stage = "chatting"
    misses: int = 0  # unanswered messages in a row
    name: str | None = None
    email: str | None = None
    reason: HandOverReason = "asked"  # why collecting started (the handover's reason)


Turn = tuple[BotState, list[Action]]


def words(text: str) -> list[str]:
    """The text's words, case-folded, accents and punctuation ignored."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.findall(r"\w+", plain)


def _found(keyword: str, said: list[str]) -> bool:
    wanted = words(keyword)
    if not wanted:
        return False
    for i in range(len(said) - len(wanted) + 1):
        if all(_word_matches(k, w) for k, w in zip(wanted, said[i : i + len(wanted)], strict=True)):
            return True
    return False


def _word_matches(keyword: str, word: str) -> bool:
    return word == keyword or (
        len(keyword) >= 4 and word.startswith(keyword) and len(word) - len(keyword) <= _MAX_ENDING
    )


def answer_for(rules: BotRules, text: str) -> str | None:
    """The knowledge base's answer to `text`: the entry with the most keywords found (the first
    of equals), or None."""
    said = words(text)
    best, best_hits = None, 0
    for entry in rules.knowledge:
        hits = sum(1 for k in entry.keywords if _found(k, said))
        if hits > best_hits:
            best, best_hits = entry.answer, hits
    return best


def asks_for_person(rules: BotRules, text: str) -> bool:
    said = words(text)
    return any(_found(k, said) for k in rules.person_keywords)


def _button(rules: BotRules, text: str) -> Button | None:
    pressed = " ".join(text.casefold().split())
    return next((b for b in rules.buttons if b.label.casefold() == pressed), None)


def _labels(rules: BotRules) -> tuple[str, ...]:
    return tuple(b.label for b in rules.buttons)


def valid_email(text: str) -> str | None:
    email = text.strip()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.match(email):
        return None
    return email


def start(rules: BotRules, known: Known, opening: Sequence[str]) -> Turn:
    """The bot takes the conversation: its greeting with the buttons; then, if the visitor's
    opening message(s) asked for a person or something the knowledge base knows, the answer
    to the last one. An opening it does not understand ("hello") counts no miss."""
    state = BotState(name=known.name, email=known.email)
    actions: list[Action] = [Say(rules.greeting, _labels(rules))]
    if opening:
        text = opening[-1]
        if asks_for_person(rules, text) or answer_for(rules, text) or _button(rules, text):
            state, more = step(rules, state, text)
            actions += more
    return state, actions


def step(rules: BotRules, state: BotState, text: str) -> Turn:
    """The visitor wrote `text`: the bot's next state and what it does."""
    match state.stage:
        case "chatting":
            return _chatting(rules, state, text)
        case "ask_name":
            return _got_name(rules, state, text)
        case "ask_email":
            return _got_email(rules, state, text)
        case "done":
            return state, []  # handed over: people answer from here


def replay(rules: BotRules, known: Known, opening: Sequence[str], later: Sequence[str]) -> Turn:
    """The whole conversation so far: the state after the last of `later` (the visitor's
    messages after the bot took it) and what the bot did for that last one (for the start
    itself when `later` is empty)."""
    state, actions = start(rules, known, opening)
    for text in later:
        state, actions = step(rules, state, text)
    return state, actions


def _chatting(rules: BotRules, state: BotState, text: str) -> Turn:
    button = _button(rules, text)
    if (button is not None and button.handover) or (
        button is None and asks_for_person(rules, text)
    ):
        return _collect(rules, replace(state, misses=0, reason="asked"))
    answer = button.answer if button is not None and button.answer else answer_for(rules, text)
    if answer is not None:
        return replace(state, misses=0), [Say(answer, _labels(rules))]
    misses = state.misses + 1
    if misses >= rules.max_misses:
        return _collect(rules, replace(state, misses=misses, reason="gave_up"))
    return replace(state, misses=misses), [Say(rules.fallback, _labels(rules))]


def _collect(rules: BotRules, state: BotState) -> Turn:
    """Ask for what is still missing before the handover, or hand over."""
    if rules.collect_name and not state.name:
        return replace(state, stage="ask_name"), [Say(rules.ask_name)]
    if rules.collect_email and not state.email:
        return replace(state, stage="ask_email"), [Say(rules.ask_email)]
    return replace(state, stage="done"), [Say(rules.handover_text), HandOver(state.reason)]


def _got_name(rules: BotRules, state: BotState, text: str) -> Turn:
    name = clean_name(text)[:MAX_NAME_CHARS].strip()
    if not name:
        return state, [Say(rules.ask_name)]
    state, actions = _collect(rules, replace(state, name=name))
    return state, [Identify(name=name), *actions]


def _got_email(rules: BotRules, state: BotState, text: str) -> Turn:
    email = valid_email(text)
    if email is None:
        misses = state.misses + 1
        if misses >= rules.max_misses:
            # Not stuck on a form: a person can ask again.
            done = replace(state, stage="done", misses=misses)
            return done, [Say(rules.handover_text), HandOver(state.reason)]
        return replace(state, misses=misses), [Say(rules.invalid_email)]
    state, actions = _collect(rules, replace(state, email=email, misses=0))
    return state, [Identify(email=email), *actions]
