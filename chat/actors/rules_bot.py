"""The built-in rules bot (structures.md, "Built-in bot"): one actor per process that answers, as
each bot agent with rules (`agents.bot_rules`), the conversations that bot holds. It is a client
of the bot API like any other bot: it writes as that agent (`do_post_message`), stores what the
visitor told it through the visitor identify path, and hands over with the bots' handover.

It follows the space streams of the organizations that have such a bot through its own
consumer group, `rulesbot`. A visitor's message in a conversation a rules bot holds, or the
change that gave a rules bot a conversation, is a trigger. The bot's answer to a trigger is a
pure function of the thread's stream up to it (chat/rulesbot/engine.py `replay`), and each
message it sends has the client_id `rb-<trigger entry id>-<n>`. So a trigger handled twice (a
crash between the answer and the ack, an entry another process reclaimed) stores each answer
once and hands over once (a second handover finds the bot no longer holding the thread).

It keeps its bots present in the spaces it follows (the bots' heartbeat, never counted as agents
online), as a connected bot client would, so routing does not hand their conversations over as
those of a gone bot.

Crash policy: Redis or PostgreSQL errors (and the log not answering in time) back off and retry,
this consumer's own unacked entries first; a conversation that closed, or that a person took,
while the bot was answering ends that trigger's work. Entries are acked once their actions are
done. A crashed process's pending entries are reclaimed after `RECLAIM_IDLE_MS`. Rules that no
longer validate are logged and that bot is skipped. Anything else propagates to the
supervisor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg
import trio
from pydantic import ValidationError

from chat.backoff import Backoff
from chat.commands.bots import asks_for_person, do_handover
from chat.config import Settings
from chat.db import rules_bot_queries
from chat.db.pool import Database
from chat.errors import (
    AlreadyClaimedError,
    ThreadClosedError,
    ThreadNotFoundError,
    UnavailableError,
    VerifiedVisitorError,
)
from chat.events import LogEntry, MessagePosted, QuickReply, ThreadChanged
from chat.rulesbot.engine import (
    Action,
    BotState,
    HandOver,
    HandOverReason,
    Identify,
    Say,
    replay,
)
from chat.rulesbot.history import conversation
from chat.rulesbot.rules import BotRules, rules_of
from chat.streams import groups
from chat.streams.bots import HandoverReason
from chat.streams.errors import ConsumerGroupMissingError, StreamLogError
from chat.streams.keys import RULES_BOT_GROUP
from chat.streams.log import StreamLog

logger = logging.getLogger(__name__)

READ_BLOCK_MS = 1000
READ_COUNT = 100
# A new bot, or rules just saved, is answering within this; and the bots' heartbeat (well within
# the presence TTL, 60 s by default).
BOTS_REFRESH_SECONDS = 5.0
# An entry a crashed process left pending is taken over after this long; well inside the dedupe
# window (CHAT_RESUME_WINDOW_SECONDS), so the replayed answers are still recognised.
RECLAIM_IDLE_MS = 30_000
RECLAIM_EVERY_SECONDS = 10.0
# A conversation with the bot is short; a thread longer than this is replayed from its last
# entries only (what came before is not the bot's part of it).
MAX_HISTORY = 1000

# The engine's reasons as the log's (chat/streams/bots.py): the visitor asked for a person (by
# a button or the rules' words; the service's own words hand over before the bot reads them),
# or the bot gave up after its misses (on purpose: "requested").
_REASONS: dict[HandOverReason, HandoverReason] = {"asked": "visitor_asked", "gave_up": "requested"}


@dataclass(frozen=True, slots=True)
class RulesBot:
    id: str
    organization_id: str
    name: str
    rules: BotRules


@dataclass
class RulesBotState:
    """What the bot did, for tests and /metrics."""

    said: int = 0
    handed_over: int = 0
    failing_since: float | None = None
    bots: dict[str, RulesBot] = field(default_factory=dict)
    # Each followed space's widget language (its `locale` setting), for the words by which a
    # visitor asks for a person.
    locales: dict[str, str] = field(default_factory=dict)


async def run_rules_bot(
    stream_log: StreamLog,
    db: Database,
    settings: Settings,
    state: RulesBotState,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Answer as the rules bots until cancelled; never returns otherwise.

    Resource handling: one consumer `node-<node_id>` in the group `rulesbot` on the stream of
    each live space of an organization with a rules bot; saving rules creates the group at the
    stream's end (what came before is not replayed), this at the start of a space made since.
    Cancellation leaves read entries pending: this consumer reads them again at its next start,
    another process reclaims them after RECLAIM_IDLE_MS.
    """
    consumer = f"node-{settings.node_id}"
    spaces: dict[str, str] = {}  # space -> organization, only organizations with a rules bot
    known: set[str] = set()
    next_refresh = next_reclaim = 0.0
    backoff = Backoff("rules bot")
    recovering = True
    task_status.started()
    while True:
        now = trio.current_time()
        try:
            if now >= next_refresh:
                spaces = await _refresh(stream_log, db, state, known)
                next_refresh = now + BOTS_REFRESH_SECONDS
            if now >= next_reclaim:
                for space_id in spaces:
                    taken = await groups.reclaim(
                        stream_log, consumer, space_id, RECLAIM_IDLE_MS, READ_COUNT, RULES_BOT_GROUP
                    )
                    await _handle_all(stream_log, state, settings, spaces, taken)
                next_reclaim = now + RECLAIM_EVERY_SECONDS
            ids = list(spaces)
            if recovering:
                read = await groups.read_own_pending(
                    stream_log, consumer, ids, READ_COUNT, RULES_BOT_GROUP
                )
                recovering = bool(read)
            else:
                read = await groups.read_new(
                    stream_log, consumer, ids, READ_COUNT, READ_BLOCK_MS, RULES_BOT_GROUP
                )
            await _handle_all(stream_log, state, settings, spaces, read)
            backoff.reset()
            state.failing_since = None
        except* ConsumerGroupMissingError:
            known.clear()  # a stream lost its group: recreate the groups at the next turn
            next_refresh = 0.0
            recovering = True
        except* (StreamLogError, UnavailableError, OSError, psycopg.OperationalError) as group:
            recovering = True
            if state.failing_since is None:
                state.failing_since = trio.current_time()
            await backoff.wait(logger, group.exceptions[0])


async def _refresh(
    stream_log: StreamLog, db: Database, state: RulesBotState, known: set[str]
) -> dict[str, str]:
    """Reload the rules bots and the spaces to follow; create the group on new ones."""
    bots: dict[str, RulesBot] = {}
    for row in await db.run(rules_bot_queries.rules_bots):
        try:
            bots[row.id] = RulesBot(row.id, row.organization_id, row.name, rules_of(row.rules))
        except ValidationError:
            logger.warning("rules bot %s: its rules do not validate; skipped", row.id)
    state.bots = bots
    followed = await db.run(rules_bot_queries.followed_spaces)
    spaces = {space: org for space, org, _ in followed}
    state.locales = {space: locale for space, _, locale in followed}
    for space_id in spaces.keys() - known:
        # Saving rules creates the group at the stream's end (chat/http/api/bot_rules.py); one
        # missing here is a space made since, whose stream is all new: from its start.
        await groups.ensure_group(stream_log, space_id, RULES_BOT_GROUP, "0")
        known.add(space_id)
    for space_id, org in spaces.items():
        for bot in bots.values():
            if bot.organization_id == org:
                await stream_log.bots.do_heartbeat(space_id, bot.id)
    return spaces


async def _handle_all(
    stream_log: StreamLog,
    state: RulesBotState,
    settings: Settings,
    spaces: dict[str, str],
    read: list[groups.Decoded],
) -> None:
    acks: dict[str, list[str]] = {}
    for space_id, entry_id, entry in read:
        acks.setdefault(space_id, []).append(entry_id)
        if isinstance(entry, groups.Undecodable) or space_id not in spaces:
            continue
        found = _trigger(entry, state.bots, state.locales.get(space_id, "auto"))
        if found is not None:
            bot_id, thread_id = found
            await _answer(
                stream_log,
                state,
                settings,
                space_id,
                thread_id,
                entry_id,
                bot_id,
                organization_id=spaces[space_id],
            )
    await groups.ack(stream_log, acks, RULES_BOT_GROUP)


def _trigger(entry: LogEntry, bots: dict[str, RulesBot], locale: str) -> tuple[str, str] | None:
    """(the bot that may answer, the thread) for a visitor's message ("": whichever rules bot
    holds the thread) or a change that leaves a rules bot holding it; None for the rest.

    A message asking for a person in the service's words is none: the visitor's session hands
    its conversation over right after storing it (chat/commands/bots.py), and an answer from
    the bot racing that would only confuse."""
    event = entry.event
    if isinstance(event, MessagePosted) and event.sender_type == "visitor":
        if asks_for_person(event.content, locale):
            return None
        return "", event.thread_id
    if isinstance(event, ThreadChanged) and event.thread.status == "active":
        holder = event.thread.assigned_agent_id
        if holder is not None and holder in bots:
            return holder, event.thread.id
    return None


async def _answer(
    stream_log: StreamLog,
    state: RulesBotState,
    settings: Settings,
    space_id: str,
    thread_id: str,
    trigger: str,
    bot_id: str,
    *,
    organization_id: str,
) -> None:
    """Replay the conversation up to `trigger` and do what the bot does for it."""
    now = await stream_log.thread_state(space_id, thread_id)
    if now is None or now.status != "active" or now.assigned_agent_id not in state.bots:
        return  # no rules bot holds it (handed over, closed): people answer
    holder = state.bots[now.assigned_agent_id]
    if (bot_id and bot_id != holder.id) or holder.organization_id != organization_id:
        return  # another bot took it since; never another organization's bot
    history = await stream_log.read_before(
        stream_log.keys(space_id).thread(thread_id), _after(trigger), MAX_HISTORY
    )
    talk = conversation(history, holder.id, trigger)
    if talk is None:
        return
    turn, actions = replay(holder.rules, talk.known, talk.opening, talk.later)
    try:
        await _perform(
            stream_log,
            state,
            settings,
            space_id,
            now.visitor_id,
            thread_id,
            trigger,
            holder,
            turn,
            actions,
        )
    except (AlreadyClaimedError, ThreadClosedError, ThreadNotFoundError) as err:
        # Closed, or taken by a person, since the bot read the state: people answer from here.
        logger.info("rules bot %s: stopped in %s: %s", holder.id, thread_id, err.code)


async def _perform(
    stream_log: StreamLog,
    state: RulesBotState,
    settings: Settings,
    space_id: str,
    visitor_id: str,
    thread_id: str,
    trigger: str,
    holder: RulesBot,
    turn: BotState,
    actions: list[Action],
) -> None:
    """Do the bot's actions for `trigger`, in order. Each message's client_id names the trigger
    and its place, so doing them again stores nothing twice."""
    said = 0
    for action in actions:
        match action:
            case Say(content, labels):
                await stream_log.do_post_message(
                    space_id,
                    sender_type="agent",
                    sender_id=holder.id,
                    sender_name=holder.name,
                    content=content,
                    client_id=f"rb-{trigger}-{said}",
                    thread_id=thread_id,
                    quick_replies=[QuickReply(label=label) for label in labels],
                )
                said += 1
                state.said += 1
            case Identify(name, email):
                fields = {k: v for k, v in (("name", name), ("email", email)) if v}
                ttl = settings.visitor_active_ttl_seconds
                try:
                    await stream_log.identity.do_anonymous_identify(
                        space_id, visitor_id, fields, ttl
                    )
                except VerifiedVisitorError:
                    pass  # the site vouches for who this is: the bot changes nothing
            case HandOver(reason):
                # AlreadyClaimedError when done before (a trigger handled again): the caller's.
                await do_handover(
                    stream_log,
                    space_id,
                    thread_id,
                    reason=_REASONS[reason],
                    bot_id=holder.id,
                    by=holder.id,
                    note=_note(turn),
                )
                state.handed_over += 1


def _note(turn: BotState) -> str:
    """The bot's note to whoever takes over: what it learnt and why it hands over."""
    why = "the visitor asked for a person" if turn.reason == "asked" else "no answer matched"
    known = ", ".join(f"{k}: {v}" for k, v in (("name", turn.name), ("email", turn.email)) if v)
    return f"Built-in bot: {why}" + (f" ({known})" if known else "") + "."


def _after(entry_id: str) -> str:
    """The id just after `entry_id`, so read_before includes `entry_id` itself."""
    ms, _, seq = entry_id.partition("-")
    return f"{ms}-{int(seq) + 1}"
