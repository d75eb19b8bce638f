"""Bots' part of a conversation (structures.md, "Bots"): which bot answers a new conversation
first, when it hands over by itself, and the handover every caller uses.

`do_handover` is the one entry point: the agent socket's `handover` frame, the REST route
`POST /threads/{id}/handover`, the automatic handovers below, and an in-process bot (the
built-in rules bot) all call it. It is one atomic step on the space's log
(chat/streams/bots.py): the conversation goes back to the waiting queue at the place it had when
it opened, with its history, and routing (or a person's claim) gives it to a person.

Automatic handovers, decided after a visitor's message in a conversation its bot holds:
- the visitor asks for a person: a word of PERSON_WORDS (the space's language and English, or
  every language when the space's widget picks the visitor's) stands in the message, as a whole
  word, in any case (reason `visitor_asked`);
- the bot gives up by silence: BOT_UNANSWERED_TURNS visitor messages in a row it has not answered
  (reason `unanswered`). A bot that gives up on purpose hands over itself (reason `requested`).
"""

from __future__ import annotations

import logging
import re

import psycopg

from chat.auth.roles import supervises
from chat.commands.directory import Directory
from chat.db.rows import AgentRow
from chat.errors import AlreadyClaimedError, ForbiddenError, ThreadClosedError
from chat.events import ThreadSnapshot
from chat.space_settings import SpaceSettings
from chat.streams.bots import HandoverReason
from chat.streams.errors import StreamLogError
from chat.streams.log import Ack, StreamLog

logger = logging.getLogger(__name__)

# The visitor's messages in a row a bot leaves unanswered before the conversation goes to a
# person: one may cross the bot's answer in flight, two more mean the bot is stuck or gone.
BOT_UNANSWERED_TURNS = 3

# Words that ask for a person, per widget language (space_settings.WidgetLocale). Whole words
# only ("agent" asks, "agents" and "agentic" do not), compared case-folded. Short on purpose: a
# word that also names other things ("support") would take conversations from the bot too often.
PERSON_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"human", "agent", "person", "operator", "representative", "someone"}),
    "de": frozenset({"mensch", "mitarbeiter", "mitarbeiterin", "person", "agent"}),
    "es": frozenset({"humano", "humana", "agente", "persona", "operador"}),
    "fr": frozenset({"humain", "humaine", "agent", "personne", "conseiller", "conseillère"}),
    "pt": frozenset({"humano", "humana", "atendente", "pessoa", "agente"}),
    "ar": frozenset({"موظف", "إنسان", "انسان", "شخص", "بشري"}),
}
_WORD = re.compile(r"\w+")


def asks_for_person(content: str, locale: str = "auto") -> bool:
    """Whether a visitor's message asks for a person, in the space's language (`locale`: a
    widget language, or "auto": any) or in English."""
    if locale in PERSON_WORDS:
        words = PERSON_WORDS[locale] | PERSON_WORDS["en"]
    else:
        words = frozenset().union(*PERSON_WORDS.values())
    return any(w in words for w in _WORD.findall(content.casefold()))


async def bot_for_visitor(
    directory: Directory, organization_id: str, settings: SpaceSettings, group_id: str
) -> AgentRow | None:
    """The bot a conversation opening now goes to first: its group's bot, else the space's
    (`bot_agent_id`), when that is a live bot of the organization; None: people first. While
    PostgreSQL cannot be read and no copy is cached, None (people answer)."""
    if not group_id and settings.bot_agent_id is None:
        return None  # the common case: no bot anywhere, and no directory read for it
    try:
        org = await directory.org(organization_id)
    except psycopg.OperationalError:
        return None
    group = org.groups.get(group_id) if group_id else None
    for bot_id in (group.bot_agent_id if group else None, settings.bot_agent_id):
        found = org.agents.get(str(bot_id)) if bot_id else None
        if found is not None and found.is_bot:
            return found
    return None


async def do_handover(
    stream_log: StreamLog,
    space_id: str,
    thread_id: str,
    *,
    reason: HandoverReason = "requested",
    bot_id: str = "",
    by: str = "",
    note: str = "",
) -> ThreadSnapshot:
    """Hand the conversation from its bot to people: one `thread.handed_over` entry, the thread
    waiting again at its first place; the thread as it is now. `bot_id`: only if that bot holds
    it ('' : whichever bot); `by`: who asked (the bot, a supervisor; '' for the service itself);
    `note`: the bot's words to whoever takes over (≤ 500 characters kept).

    AlreadyClaimedError when no bot holds it (a person claimed it first: of a handover and a
    claim at the same moment exactly one wins), ThreadClosedError, ThreadNotFoundError.
    Cancellation: a cancelled handover may be stored; a retry then answers AlreadyClaimedError.
    """
    return await stream_log.bots.do_handover(
        space_id, thread_id, reason=reason, bot_id=bot_id, by=by, note=note
    )


async def do_handover_as(
    stream_log: StreamLog, caller: AgentRow, space_id: str, thread_id: str, note: str = ""
) -> ThreadSnapshot:
    """A caller's handover (the `handover` frame, the REST route): a bot hands over what it
    holds itself; a supervisor (or admin) any bot's conversation; anyone else is refused
    (ForbiddenError: a person takes a bot's conversation by claiming it)."""
    if caller.is_bot:
        return await do_handover(
            stream_log, space_id, thread_id, bot_id=caller.id, by=caller.id, note=note
        )
    if not supervises(caller.role):
        raise ForbiddenError("only the bot holding it or a supervisor hands it over; claim it")
    return await do_handover(stream_log, space_id, thread_id, by=caller.id, note=note)


async def hand_over_if_due(
    stream_log: StreamLog, space_id: str, ack: Ack, content: str, locale: str
) -> HandoverReason | None:
    """After a visitor's message is in the log: hand its conversation over when its bot holds
    it and the visitor asked for a person or the bot left too many messages unanswered; the
    reason, or None. A person who took it meanwhile wins (nothing happens)."""
    if not ack.bot_id:
        return None
    reason: HandoverReason | None = None
    if asks_for_person(content, locale):
        reason = "visitor_asked"
    elif ack.bot_unanswered >= BOT_UNANSWERED_TURNS:
        reason = "unanswered"
    if reason is None:
        return None
    try:
        await do_handover(stream_log, space_id, ack.thread_id, reason=reason, bot_id=ack.bot_id)
    except (AlreadyClaimedError, ThreadClosedError):
        return None  # a person or a close got there first
    except (StreamLogError, OSError, TimeoutError) as exc:
        # The visitor's message is stored and acked: not theirs to hear about. The visitor's
        # next message tries again (the count and the words are checked on each).
        logger.warning("handover of %s after the visitor's message failed: %r", ack.thread_id, exc)
        return None
    return reason
