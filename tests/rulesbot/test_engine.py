"""The rules bot's conversation as pure functions: greeting, buttons, the knowledge base,
misses, collecting name and email, the handover; and the replay the actor relies on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chat.rulesbot.engine import (
    BotState,
    HandOver,
    Identify,
    Known,
    Say,
    answer_for,
    replay,
    start,
    step,
    valid_email,
)
from chat.rulesbot.rules import BotRules, rules_of

RULES = BotRules.model_validate(
    {
        "greeting": "Hi! What can I help with?",
        "buttons": [
            {"label": "Pricing"},
            {"label": "Opening hours", "answer": "We are open 9 to 5."},
            {"label": "Talk to a person", "handover": True},
        ],
        "knowledge": [
            {"keywords": ["price", "pricing", "cost"], "answer": "Plans start at 10 EUR."},
            {"keywords": ["shipping", "delivery time"], "answer": "We ship in 2 days."},
            {"keywords": ["price", "shipping"], "answer": "Shipping is free."},
        ],
        "fallback": "Sorry?",
        "max_misses": 2,
        "ask_name": "Your name?",
        "ask_email": "Your email?",
        "invalid_email": "Not an email.",
        "handover_text": "Passing you on.",
    }
)
LABELS = ("Pricing", "Opening hours", "Talk to a person")


def test_the_greeting_offers_the_buttons() -> None:
    state, actions = start(RULES, Known(), ["hello"])
    assert actions == [Say("Hi! What can I help with?", LABELS)]
    assert state == BotState()  # "hello" is no miss


def test_an_opening_question_is_answered_after_the_greeting() -> None:
    _, actions = start(RULES, Known(), ["How much does it COST?"])
    assert actions == [
        Say("Hi! What can I help with?", LABELS),
        Say("Plans start at 10 EUR.", LABELS),
    ]


def test_keywords_match_words_phrases_and_short_endings_only() -> None:
    assert answer_for(RULES, "what are your prices?") == "Plans start at 10 EUR."
    assert answer_for(RULES, "Délivery   time please") == "We ship in 2 days."
    assert answer_for(RULES, "the time of delivery") is None  # a phrase, in its order
    assert answer_for(RULES, "pricelessness") is None  # not a short ending
    assert answer_for(RULES, "price of shipping") == "Shipping is free."  # most keywords wins


def test_buttons_answer_match_or_hand_over() -> None:
    state = BotState()
    assert step(RULES, state, "pricing")[1] == [Say("Plans start at 10 EUR.", LABELS)]
    assert step(RULES, state, "Opening hours")[1] == [Say("We are open 9 to 5.", LABELS)]
    after, actions = step(RULES, state, "Talk to a person")
    assert after.stage == "ask_name" and actions == [Say("Your name?")]


def test_misses_fall_back_then_hand_over() -> None:
    state, actions = step(RULES, BotState(), "blue whales")
    assert actions == [Say("Sorry?", LABELS)] and state.misses == 1
    state, actions = step(RULES, state, "purple whales")
    assert state.stage == "ask_name" and state.reason == "gave_up"
    # An answer in between starts the count again.
    state, _ = step(RULES, BotState(misses=1), "shipping?")
    assert state.misses == 0


def test_collects_name_and_email_then_hands_over() -> None:
    state, actions = step(RULES, BotState(), "can I talk to a human")
    assert actions == [Say("Your name?")]
    state, actions = step(RULES, state, "  Grace Hopper ")
    assert actions == [Identify(name="Grace Hopper"), Say("Your email?")]
    state, actions = step(RULES, state, "grace at navy")
    assert actions == [Say("Not an email.")]
    state, actions = step(RULES, state, "grace@navy.mil")
    assert actions == [Identify(email="grace@navy.mil"), Say("Passing you on."), HandOver("asked")]
    assert state.stage == "done"
    assert step(RULES, state, "hello?") == (state, [])


def test_what_the_visitor_gave_before_is_not_asked_again() -> None:
    state, _ = start(RULES, Known(name="Ada", email="ada@example.com"), [])
    _, actions = step(RULES, state, "a person please")
    assert actions == [Say("Passing you on."), HandOver("asked")]
    no_collecting = RULES.model_copy(update={"collect_name": False, "collect_email": False})
    _, actions = step(no_collecting, BotState(), "agent")
    assert actions == [Say("Passing you on."), HandOver("asked")]


def test_a_wrong_email_twice_hands_over_without_it() -> None:
    state = BotState(stage="ask_email", name="Ada")
    state, _ = step(RULES, state, "nope")
    state, actions = step(RULES, state, "still nope")
    assert actions == [Say("Passing you on."), HandOver("asked")] and state.email is None


def test_replay_reaches_the_same_turn_as_stepping() -> None:
    """The actor's crash safety: the reply to a message is a function of the messages before."""
    later = ["pricing", "whales", "a person", "Ada", "ada@example.com"]
    state, actions = start(RULES, Known(), ["hi"])
    for text in later:
        state, actions = step(RULES, state, text)
    assert replay(RULES, Known(), ["hi"], later) == (state, actions)
    assert replay(RULES, Known(), ["hi"], later[:2])[1] == [Say("Sorry?", LABELS)]


def test_emails() -> None:
    assert valid_email(" a.b+c@example.co.uk ") == "a.b+c@example.co.uk"
    for bad in ("a@b", "a b@example.com", "@example.com", "a@@example.com", "a@example."):
        assert valid_email(bad) is None


def test_rules_are_bounded_and_strict() -> None:
    assert rules_of(None) == BotRules()
    for bad in (
        {"buttons": [{"label": "x" * 41}]},
        {"buttons": [{"label": f"b{n}"} for n in range(9)]},
        {"buttons": [{"label": "A"}, {"label": "a"}]},
        {"buttons": [{"label": "A", "answer": "x", "handover": True}]},
        {"knowledge": [{"keywords": [], "answer": "x"}]},
        {"knowledge": [{"keywords": ["  "], "answer": "x"}]},
        {"greeting": ""},
        {"max_misses": 0},
        {"unknown": 1},
    ):
        with pytest.raises(ValidationError):
            BotRules.model_validate(bad)
    assert BotRules.model_validate({"person_keywords": ["  Real  PERSON "]}).person_keywords == [
        "real person"
    ]
