"""Bodies and replies of the bot routes (chat/http/api/bots.py) and of a conversation's
handover and REST messages (chat/http/api/thread_messages.py), in the OpenAPI document like
every route's (structures.md, "Bots")."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from chat.http.bodies import _Body
from chat.http.replies import Agent, _Reply
from chat.protocol.inbound import ClientId, Name, QuickReplies
from chat.streams.bots import MAX_HANDOVER_NOTE_CHARS


class CreateBot(_Body):
    name: Name = Field(description="What visitors and agents see, e.g. 'Helper'")


class Bot(Agent):
    token_prefix: str | None = Field(
        default=None, description="The token's start (chat_bot_ and 8 hex digits of the bot id)"
    )
    token_last4: str | None = Field(default=None, description="The token's last 4 characters")
    token_last_used_at: datetime | None = Field(
        default=None, description="Updated at most once a minute"
    )


class BotList(_Reply):
    items: list[Bot]


class BotToken(_Reply):
    token: str = Field(
        description="chat_bot_<id>_<secret>: shown once, never again; the bot sends it as"
        " `Authorization: Bearer` or `/ws/agent?token=`"
    )
    prefix: str
    last4: str


class BotCreated(_Reply):
    bot: Bot
    token: str = Field(description="Shown once, never again (rotate it to get a new one)")


class Handover(_Body):
    reason: str = Field(
        default="",
        max_length=MAX_HANDOVER_NOTE_CHARS,
        description="The bot's note to whoever takes over (kept in the entry's `note`)",
    )


class PostMessage(_Body):
    client_id: ClientId = Field(
        description="The sender's id for this message: sent again, it is stored once"
    )
    content: str = Field(description="1..4000 characters after trimming")
    quick_replies: QuickReplies | None = Field(
        default=None,
        description="Buttons offered to the visitor under the message (at most 8, labels of"
        " 1..40 characters); pressing one sends its label as the visitor's message",
    )


class MessageAck(_Reply):
    client_id: str
    id: str = Field(description="The message's id (its entry id in the thread stream)")
    thread_id: UUID
    created_at: datetime
