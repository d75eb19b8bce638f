"""The built-in rules bot's rules (README "Built-in bot", structures.md "Built-in bot"): what an
admin edits in the console and the service keeps in `agents.bot_rules` (jsonb) of a bot agent.

One typed model, strict (`extra="forbid"`) where it enters (REST), with bounds that keep a rule
set small enough to read and to match in a few microseconds per message. Plain data: the engine
(chat/rulesbot/engine.py) reads it, nothing here does I/O.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from chat.protocol.inbound import (
    MAX_CONTENT_CHARS,
    MAX_QUICK_REPLIES,
    MAX_QUICK_REPLY_CHARS,
    clean_name,
)

# A knowledge base the console edits by hand: a hundred entries is a long FAQ.
MAX_KNOWLEDGE_ENTRIES = 100
MAX_KEYWORDS = 20
MAX_KEYWORD_CHARS = 60
MAX_PERSON_KEYWORDS = 20


def _visible(text: str) -> str:
    cleaned = clean_name(text)
    if not cleaned:
        raise ValueError("the text has no visible characters")
    return cleaned


def _keyword(text: str) -> str:
    # Matched against the visitor's words, case-insensitively (chat/rulesbot/engine.py).
    return " ".join(_visible(text).casefold().split())


# A message the bot sends: what a person could write (check_content's bounds).
BotText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CONTENT_CHARS),
    AfterValidator(_visible),
]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUICK_REPLY_CHARS),
    AfterValidator(_visible),
]
Keyword = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_KEYWORD_CHARS),
    AfterValidator(_keyword),
]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Button(_Rule):
    """A quick reply offered under the greeting and under every answer. Pressed, its label comes
    back as the visitor's message: `answer` answers it, `handover` asks for a person, and a
    button with neither is matched against the knowledge base like typed text."""

    label: Label
    answer: BotText | None = None
    handover: bool = False

    @model_validator(mode="after")
    def _one_meaning(self) -> Button:
        if self.answer is not None and self.handover:
            raise ValueError("a button either answers or hands over, not both")
        return self


class KnowledgeEntry(_Rule):
    """An answer given when the visitor's message holds one of the keywords (a word or a phrase;
    the entry with the most keywords found wins, the first of equals)."""

    keywords: list[Keyword] = Field(min_length=1, max_length=MAX_KEYWORDS)
    answer: BotText


DEFAULT_PERSON_KEYWORDS = ("human", "person", "agent", "someone", "operator", "representative")


class BotRules(_Rule):
    greeting: BotText = "Hi! I'm the assistant. What can I help you with?"
    buttons: list[Button] = Field(default_factory=list, max_length=MAX_QUICK_REPLIES)
    knowledge: list[KnowledgeEntry] = Field(default_factory=list, max_length=MAX_KNOWLEDGE_ENTRIES)
    # Said when nothing matched; after `max_misses` such messages in a row the bot hands over.
    fallback: BotText = "Sorry, I did not understand. Pick an option below, or ask for a person."
    max_misses: int = Field(default=2, ge=1, le=10)
    # Words or phrases by which a visitor asks for a person (a handover at once).
    person_keywords: list[Keyword] = Field(
        default_factory=lambda: list(DEFAULT_PERSON_KEYWORDS), max_length=MAX_PERSON_KEYWORDS
    )
    # Before handing over, ask for what the visitor has not given yet.
    collect_name: bool = True
    collect_email: bool = True
    ask_name: BotText = "Before I connect you: what is your name?"
    ask_email: BotText = "Thanks! And your email address, in case we get cut off?"
    invalid_email: BotText = "That does not look like an email address. Could you check it?"
    handover_text: BotText = "Thank you! I'm passing you to a person now, who can see this chat."

    @model_validator(mode="after")
    def _distinct_labels(self) -> BotRules:
        labels = [b.label.casefold() for b in self.buttons]
        if len(set(labels)) != len(labels):
            raise ValueError("two buttons have the same label")
        return self


def rules_of(raw: object) -> BotRules:
    """Rules as stored (validated when written); an empty or missing object: the defaults."""
    return BotRules.model_validate(raw or {})
