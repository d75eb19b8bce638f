"""A visitor's WebSocket session: its welcome, one small handler per frame kind, the paced side
channels (page, typing) and the lead left offline, on the skeleton of chat/actors/socket.py. Its
thread's feed and presence are chat/actors/visitor_feed.py.

Crash policy: a bad frame is answered with an error frame and the session goes on; a storage
error in a handler answers `unavailable`, one in a background feed step backs off and retries;
flooding closes with 4008; a feed that fell behind closes with 1013 so the widget resumes from
its last id (counted in /metrics); a rotated key or a deleted space closes with 4004
(chat/actors/revocation.py); the socket closing ends the session; anything else propagates (the
handler logs it).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, assert_never

import trio

from chat import thread_history
from chat.actors.frame_outbox import Outbox
from chat.actors.pacing import Paced, TokenBucket
from chat.actors.preview import new_preview, offer_draft, send_previews
from chat.actors.revocation import WidgetWatch
from chat.actors.socket import (
    OUTBOX_SIZE,
    STORAGE_ERRORS,
    SessionDeps,
    Socket,
    run_session,
)
from chat.actors.thread import Attachment
from chat.actors.visitor_context import (
    BrowserContext,
    handle_read,
    identify_attributes,
    note_page,
    page_fields,
    send_seen,
)
from chat.actors.visitor_feed import (
    SWITCHES_SIZE,
    SwitchThread,
    attach,
    feed_visitor,
    listener,
    on_own_thread,
    on_presence,
    switch_to,
    until_stored,
    welcomed,
)
from chat.actors.visitor_groups import Availability, follow_availability, read_availability
from chat.actors.visitor_identity import check_may_open, verify
from chat.actors.visitor_queue import QueueWatch, moves, send_changes, welcome_position
from chat.actors.visitor_rating import handle_rate
from chat.business_hours import is_open
from chat.clock import now_ms, utc_now
from chat.commands.attachments import check_visitor_attachment, content_with
from chat.commands.bots import bot_for_visitor, hand_over_if_due
from chat.db.rows import SpaceRow
from chat.errors import CLOSE_TRY_AGAIN, ChatError, QueueFullError, RateLimitedError
from chat.events import (
    OPEN_THREAD_STATUSES,
    QUEUE_ROUTE,
    LogEntry,
    VisitorInfo,
    visitor_route,
)
from chat.json_types import Json
from chat.mail import LEAD_MAX_OPEN_THREADS
from chat.protocol.inbound import (
    Identify,
    Page,
    Ping,
    Rate,
    SendMessage,
    VisitorFrame,
    VisitorRead,
    VisitorTyping,
    check_content,
    parse_visitor_frame,
)
from chat.protocol.outbound import (
    PONG,
    error_frame,
    message_ack,
    visitor_json,
    visitor_welcome,
)
from chat.space_settings import SpaceSettings
from chat.streams.log import AddressBudget, RateLimit
from chat.streams.reader import Listener

logger = logging.getLogger(__name__)
HISTORY_LIMIT = 50
# A resume (`last`) gets every message after it, so nothing falls between the welcome and the
# live feed; past this many the welcome holds the newest ones instead (a gap, but bounded).
RESUME_LIMIT = 1000
# Recent client_ids sent on this socket: their echo from the log is not sent back to it.
OWN_CLIENT_IDS = 256
# Side-channel frames of one socket (structures.md, "Visitor budgets"): `page` is written at
# most once a second (the latest wins; one sent during the second is written when it ends) and
# its URL cut to PAGE_URL_CHARS; `typing` changes pass at most once a second the same way (a
# repeat of "typing" passes once per TYPING_REFRESH_SECONDS, a repeat of "stopped" never);
# `identify` passes IDENTIFY_RATE a second, IDENTIFY_BURST at
# once, and past that is answered `rate_limited`.
PAGE_INTERVAL_SECONDS = 1.0
PAGE_URL_CHARS = 1024
TYPING_INTERVAL_SECONDS = 1.0
# A visitor still typing is said again this often: agents' consoles forget a typing indicator a
# few seconds after its last entry (so one whose stop was lost with its socket goes away), and a
# visitor typing a long message must not vanish from them meanwhile.
TYPING_REFRESH_SECONDS = 3.0
IDENTIFY_RATE = 1.0
IDENTIFY_BURST = 3


@dataclass(eq=False, slots=True)
class VisitorSession:
    """One widget socket's state; the `Session` of chat/actors/socket.py for visitor frames."""

    deps: SessionDeps
    space: SpaceRow
    space_settings: SpaceSettings
    visitor_id: str
    token: str
    last: str | None  # the handshake's resume id
    outbox: Outbox
    watch: WidgetWatch
    address: str = ""  # the client address's budget id (chat/http/ws.py)
    name: str | None = None
    # Whether the visitor is stored (its hash, entries, row); a visitor that only connected is
    # not, until it sends, identifies, or lingers (Settings.visitor_linger_seconds).
    stored: bool = False
    pages: Paced[str] = field(default_factory=lambda: Paced(PAGE_INTERVAL_SECONDS))
    typing: Paced[bool] = field(default_factory=lambda: Paced(TYPING_INTERVAL_SECONDS))
    typing_asked: bool = False  # the last state the client asked for
    typing_asked_at: float = -math.inf  # when it was last passed on (trio time)
    preview: Paced[str] = field(default_factory=new_preview)  # drafts (chat/actors/preview.py)
    # The session's nursery (set in join), and which pacers run in it: each starts with the
    # first value it paces, so a socket that never types nor names a page holds none of their
    # tasks (most widget sockets idle: issue 19's memory per socket).
    nursery: trio.Nursery | None = None
    pacing_pages: bool = False
    pacing_typing: bool = False
    pacing_previews: bool = False
    identify_budget: TokenBucket = field(
        default_factory=lambda: TokenBucket(IDENTIFY_RATE, IDENTIFY_BURST)
    )
    overflowed: FellBehind = field(init=False)
    # feed_visitor's thread switches; the channel and the task start at the first switch.
    switches: trio.MemorySendChannel[SwitchThread] | None = None
    # The feed's state (chat/actors/visitor_feed.py): entries are held until the welcome.
    holding: bool = True
    welcomed: bool = False
    held: deque[tuple[Callable[[Any, LogEntry], Any], LogEntry]] | None = None
    # The waiting queue's follower (chat/actors/visitor_queue.py), once the visitor's place
    # may have moved.
    queue_watch: QueueWatch | None = None
    thread_id: str | None = None
    watermark: str = "0-0"
    # The client ids of this session's own messages (their echo is not sent back), made at the
    # first: an empty deque is 760 bytes of an idle socket (issue 19).
    own_client_ids: deque[str] | None = None
    attachment: Attachment | None = None
    agents_online: bool = False
    available_groups: Availability = None  # chat/actors/visitor_groups.py
    availability_due: trio.Event = field(default_factory=trio.Event)
    queue_refused: bool = False  # a message was refused `queue_full`: an email leaves a lead
    queue_position: int | None = None  # the place in the waiting queue last sent
    browser: BrowserContext = field(default_factory=BrowserContext)  # chat/actors/visitor_context
    verified: bool = False  # by a signed identity (chat/actors/visitor_identity.py)

    def __post_init__(self) -> None:
        self.overflowed = FellBehind(self.watch, self.deps.stats.overflows)

    @property
    def who(self) -> str:
        return f"visitor {self.visitor_id}"

    def feed_switches(self) -> trio.MemorySendChannel[SwitchThread] | None:
        """Made at the first thread switch: most widget sockets never switch, and the task and
        its channel are about 4 KB of an idle socket's memory (issue 19)."""
        if self.switches is None:
            if self.nursery is None:  # not joined: nothing switches before the welcome (the
                return None  # listeners hold what they hear until it is queued)
            switches, receive = trio.open_memory_channel[SwitchThread](SWITCHES_SIZE)
            try:
                self.nursery.start_soon(feed_visitor, self, receive)
            except RuntimeError:  # the session is ending (closing its socket): nothing to feed
                return None
            self.switches = switches
        return self.switches

    def parse(self, data: str | bytes) -> VisitorFrame:
        return parse_visitor_frame(data)

    async def join(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        # A new (or expired) visitor is only in memory until it does something: connecting
        # alone stores nothing.
        joined = await self.deps.stream_log.joins.read(self.space.id, self.visitor_id)
        self.stored, self.verified = joined.visitor is not None, joined.verified
        info = joined.visitor or VisitorInfo(id=self.visitor_id, created=now_ms())
        self.name = info.name
        if not self.stored:
            self.pages.not_before(trio.current_time() + self.deps.settings.visitor_linger_seconds)
        await _welcome(self, info, joined.online_agents)
        welcomed(self)  # what the thread and the listeners held back passes on
        if self.available_groups != {}:  # {}: no group to tell of, ever (its settings)
            nursery.start_soon(follow_availability, self)

    async def handle(self, frame: VisitorFrame) -> None:
        match frame:
            case SendMessage():
                await _handle_message(self, frame)
            case VisitorTyping():
                await _handle_typing(self, frame)
            case Identify():
                await _handle_identify(self, frame)
            case Page():
                await _handle_page(self, frame)
            case VisitorRead():
                await handle_read(self, frame)
            case Rate():
                await handle_rate(self, frame)
            case Ping():
                await self.outbox.put(PONG)
            case _:
                assert_never(frame)

    def error_reply(self, err: ChatError, frame: VisitorFrame | None) -> Json:
        client_id = frame.client_id if isinstance(frame, SendMessage | Rate) else None
        return error_frame(err, client_id)

    async def leave(self) -> None:
        """Nothing to undo inside the session: run_visitor_session releases the subscriptions
        and the thread once every task of it has ended."""


async def run_visitor_session(
    deps: SessionDeps,
    socket: Socket,
    space: SpaceRow,
    visitor_id: str,
    session_token: str,
    last: str | None,
    watch: WidgetWatch,
    address: str = "",
    user_agent: str = "",
) -> None:
    """Serve one widget socket until it closes. The caller has accepted it, and holds `watch`
    registered (SessionRegistry.open_widget_watch) for as long as this runs. `address` names
    the client address's budgets ('' spends none); `user_agent` is the handshake's header."""
    router = deps.router
    session = VisitorSession(
        deps,
        space,
        SpaceSettings.of(space.settings),
        visitor_id,
        session_token,
        last,
        Outbox(OUTBOX_SIZE),
        watch,
        address,
    )
    session.browser.user_agent = user_agent
    listeners: list[Listener] = []
    try:
        # Listening before the visitor's state is read (in join), so no change falls between;
        # what they hear before the welcome is held until it is queued.
        for route, kind, handle in (
            (None, "presence", on_presence),
            (visitor_route(visitor_id), None, on_own_thread),
            (QUEUE_ROUTE, None, _on_queue_entry),
        ):
            on_entry = listener(session, handle)
            listeners.append(await router.listen(space.id, on_entry, route=route, kind=kind))
        await run_session(socket, session, deps.settings, deps.stats.visitor)
    finally:
        for each in listeners:
            router.unsubscribe(each)
        if session.attachment is not None and session.thread_id is not None:
            deps.threads.detach(space.id, session.thread_id, session.attachment)


def _on_queue_entry(session: VisitorSession, entry: LogEntry) -> None:
    """An entry that may move the waiting queue (the QUEUE_ROUTE listener): wake the queue
    follower when it may move this visitor's place, starting it the first time."""
    watch = session.queue_watch or QueueWatch(session.thread_id)
    if not moves(session, entry, watch):
        return
    if session.queue_watch is None:
        try:
            _nursery(session).start_soon(send_changes, session, watch)
        except RuntimeError:  # the session is ending (closing its socket): nothing to follow
            return
        session.queue_watch = watch
    watch.due.set()


class FellBehind:
    """A visitor session's cut-off: set when it fell behind its client (its outbox was full
    when an entry came) or its thread actor failed. It closes the socket with 1013 (the widget
    resumes from its last id) by revoking the session's watch, which the session's own task
    stops already (Watch.on_revoked), so it costs no task of its own. A deliberate drop,
    so it is counted, once."""

    def __init__(self, watch: WidgetWatch, overflows: Counter[str]) -> None:
        self._watch = watch
        self._overflows = overflows
        self._set = False

    def set(self) -> None:
        if not self._set:
            self._set = True
            self._overflows["visitor"] += 1
            self._watch.revoke(CLOSE_TRY_AGAIN, "fell behind; resume with last")

    def is_set(self) -> bool:
        return self._set


async def _welcome(session: VisitorSession, visitor: VisitorInfo, online: list[str]) -> None:
    """The welcome frame, then `seen`. `online`: the agents online as read on joining (a
    presence entry since then was held, and passes on after the welcome)."""
    stream_log, space = session.deps.stream_log, session.space
    thread_id = visitor.thread
    snapshot = await stream_log.thread_state(space.id, thread_id) if thread_id else None
    if snapshot is not None and snapshot.status not in OPEN_THREAD_STATUSES:
        snapshot = None
    messages: list[Json] = []
    if snapshot is not None:
        await attach(session, snapshot.id)
        messages = await _history(session, snapshot.id, session.last)
        session.watermark = messages[-1]["id"] if messages else (session.last or "0-0")
    session.agents_online = bool(online)
    session.available_groups = await read_availability(session.deps, space, online)
    session.queue_position = await welcome_position(session, snapshot)
    await session.outbox.send(
        visitor_welcome(
            session.token,
            visitor_json(space.id, session.visitor_id, visitor),
            snapshot,
            session.agents_online,
            messages,
            session.queue_position,
            session.available_groups,
        )
    )
    await send_seen(session)


async def _history(session: VisitorSession, thread_id: str, last: str | None) -> list[Json]:
    """The welcome's history: every message after `last` (up to RESUME_LIMIT), or the latest
    HISTORY_LIMIT without it. Read after attaching, so the live feed takes over where it ends."""
    stream_log, db, space_id = session.deps.stream_log, session.deps.db, session.space.id
    if last is None:
        return await thread_history.messages_after(
            stream_log, db, space_id, thread_id, None, HISTORY_LIMIT
        )
    missed = await thread_history.messages_after(
        stream_log, db, space_id, thread_id, last, RESUME_LIMIT + 1
    )
    if len(missed) <= RESUME_LIMIT:
        return missed
    return await thread_history.messages_after(
        stream_log, db, space_id, thread_id, None, RESUME_LIMIT
    )


async def _handle_message(session: VisitorSession, frame: SendMessage) -> None:
    check_may_open(session)
    attachment = None
    if frame.attachment_id is not None:
        attachment = await check_visitor_attachment(
            session.deps.db, session.space.id, session.visitor_id, frame.attachment_id
        )
    content = check_content(content_with(frame.content, attachment))
    # The draft became a message: the agents' preview of it goes.
    _offer_draft(session, False, None)
    if not session.stored and (url := session.pages.take_now()) is not None:
        await _store_page(session, url)  # the agent sees where the visitor writes from
    _remember_own(session, frame.client_id)
    settings, config = session.space_settings, session.deps.settings
    budget = AddressBudget(
        session.address,
        open_threads=config.visitor_open_threads_per_address,
        threads_per_hour=config.visitor_threads_per_address_per_hour,
        messages_per_second=config.visitor_messages_per_address_per_second,
        messages_burst=config.visitor_messages_per_address_burst,
    )
    directory = session.deps.commands.directory
    org = session.space.organization_id
    group_id = await directory.group_for_visitor(org, settings, frame.group_id)
    # Only a conversation this message opens goes to the bot (the script ignores it otherwise);
    # the directory is a cached copy, so asking on every message costs nothing.
    bot = await bot_for_visitor(directory, org, settings, group_id)
    try:
        ack = await session.deps.stream_log.do_post_message(
            session.space.id,
            sender_type="visitor",
            sender_id=session.visitor_id,
            sender_name=session.name or "Visitor",
            content=content,
            client_id=frame.client_id,
            rate=RateLimit(settings.visitor_messages_per_second, settings.visitor_burst),
            max_open_threads=settings.max_open_threads,
            address=budget if session.address else None,
            visitor_ttl_seconds=_active_ttl(session),
            reopen_window_seconds=settings.reopen_window_seconds if frame.reopen else 0,
            group_id=group_id,
            attachment=attachment,
            bot_id=bot.id if bot else "",
            bot_name=bot.name if bot else "",
        )
    except QueueFullError:
        session.queue_refused = True
        raise
    _now_stored(session)
    await session.outbox.put(message_ack(ack))
    if ack.thread_id != session.thread_id:
        switch_to(session, ack.thread_id)
    # The visitor asked for a person, or the bot holding the conversation went silent.
    await hand_over_if_due(session.deps.stream_log, session.space.id, ack, content, settings.locale)


async def _leave_lead(session: VisitorSession, email: str) -> None:
    """The visitor left an email while nobody could answer live (no agent online, or the queue
    was full): a visitor message on the email channel, which opens (or flags) the visitor's
    conversation as an email one, shows it in every agent's inbox and, once projected, has the
    team notified by mail (chat/actors/mailer.py)."""
    client_id = "lead-" + uuid.uuid4().hex
    _remember_own(session, client_id)  # the form already thanked the visitor
    ack = await session.deps.stream_log.do_post_message(
        session.space.id,
        sender_type="visitor",
        sender_id=session.visitor_id,
        sender_name=session.name or email,
        content=f"Left a message while no one could answer. Replies go by email to {email}.",
        client_id=client_id,
        max_open_threads=LEAD_MAX_OPEN_THREADS,
        visitor_ttl_seconds=_active_ttl(session),
        channel="email",
        email=email,
        reopen_window_seconds=session.space_settings.reopen_window_seconds,
    )
    if ack.thread_id != session.thread_id:
        switch_to(session, ack.thread_id)


def _now_stored(session: VisitorSession) -> None:
    """The visitor is stored: its pages no longer wait out the linger (agents follow where a
    visitor who wrote or identified goes, at the page pace)."""
    if not session.stored:
        session.stored = True
        session.pages.release()


def _active_ttl(session: VisitorSession) -> int:
    """How long a visitor that wrote or identified is kept: at least past its thread's expiry."""
    ttl = session.deps.settings.visitor_active_ttl_seconds
    return max(ttl, 2 * session.space_settings.thread_ttl_seconds)


async def _handle_typing(session: VisitorSession, frame: VisitorTyping) -> None:
    """Paced by _send_typing; a repeat of the state asked last is dropped here. The draft, if
    the space shows previews, is paced apart (chat/actors/preview.py)."""
    _offer_draft(session, frame.active, frame.draft)
    now = trio.current_time()
    refresh_due = frame.active and now - session.typing_asked_at >= TYPING_REFRESH_SECONDS
    if frame.active != session.typing_asked or refresh_due:
        session.typing_asked = frame.active
        session.typing_asked_at = now
        session.typing.put(frame.active)
        if not session.pacing_typing:
            session.pacing_typing = True
            _nursery(session).start_soon(_send_typing, session)


def _offer_draft(session: VisitorSession, active: bool, draft: str | None) -> None:
    enabled = session.space_settings.typing_preview
    offer_draft(session.preview, active, draft, enabled)
    if enabled and not session.pacing_previews:
        session.pacing_previews = True
        _nursery(session).start_soon(
            send_previews, session, session.deps.stream_log, session.space.id
        )


def _nursery(session: VisitorSession) -> trio.Nursery:
    """The session's nursery: frames are handled only after join has set it."""
    assert session.nursery is not None
    return session.nursery


async def _send_typing(session: VisitorSession) -> NoReturn:
    sent = False
    while True:
        active = await session.typing.take()
        # "Typing" again refreshes the agents' indicator; a stop only ends one that was shown.
        if (active or sent) and session.thread_id is not None:
            try:
                await session.deps.stream_log.do_typing(
                    session.space.id, session.thread_id, "visitor", session.visitor_id, active
                )
            except STORAGE_ERRORS as exc:  # typing is ephemeral: a lost one is harmless
                logger.debug("visitor %s: typing not sent: %r", session.visitor_id, exc)
                continue
            sent = active


async def _handle_identify(session: VisitorSession, frame: Identify) -> None:
    attributes = identify_attributes(frame)  # checked first: a refused frame spends no budget
    if not session.identify_budget.take():
        raise RateLimitedError("too many identify frames; slow down")
    if frame.token is not None:
        if await verify(session, frame.token, _active_ttl(session)):
            _now_stored(session)
        return
    fields = {k: v.strip() for k, v in (("name", frame.name), ("email", frame.email)) if v}
    fields.update(attributes)
    if fields:
        session.name = fields.get("name", session.name)
        # Refused (identity_verified) for a verified visitor: only a signed token changes one.
        await session.deps.stream_log.identity.do_anonymous_identify(
            session.space.id, session.visitor_id, fields, _active_ttl(session)
        )
        _now_stored(session)
        # A group with nobody to route to counts as away: the widget offers the offline form
        # when the visitor's group is one of them (structures.md "Group availability").
        groups = session.available_groups or {}
        away = not session.agents_online or session.queue_refused or False in groups.values()
        # Outside business hours the widget offers the offline form whoever is online: hours
        # win for new visitors (structures.md, "Business hours").
        away = away or not is_open(session.space_settings.business_hours, utc_now())
        if frame.offline and "email" in fields and away:
            check_may_open(session)
            await _leave_lead(session, fields["email"])


async def _handle_page(session: VisitorSession, frame: Page) -> None:
    """Paced by _write_pages: the latest page of each second is written."""
    note_page(session, frame)
    session.pages.put(frame.url[:PAGE_URL_CHARS])
    if not session.pacing_pages:
        session.pacing_pages = True
        _nursery(session).start_soon(_write_pages, session)


async def _write_pages(session: VisitorSession) -> NoReturn:
    """Write the visitor's page at most once a second; for a visitor not stored yet, only once
    it has stayed `visitor_linger_seconds` (Paced.not_before, set in join)."""
    while True:
        url = await session.pages.take()
        await until_stored(session, _store_page, session, url)


async def _store_page(session: VisitorSession, url: str) -> None:
    ttl = session.deps.settings.visitor_idle_ttl_seconds  # a longer one set before stays
    fields = await page_fields(session, url)
    await session.deps.stream_log.do_update_visitor(
        session.space.id, session.visitor_id, fields, ttl_seconds=ttl
    )
    session.stored = True
    session.browser.written = True


def _remember_own(session: VisitorSession, client_id: str) -> None:
    """This session sent the message `client_id`: its echo from the log is not sent back."""
    if session.own_client_ids is None:
        session.own_client_ids = deque(maxlen=OWN_CLIENT_IDS)
    session.own_client_ids.append(client_id)
