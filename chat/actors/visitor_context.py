"""What a visitor session adds for visitor context and read state (structures.md, "Visitor
context", "Read state"): the browser's locale, time zone, browser and OS stored with the first
page the session writes, the host page's attributes, the visitor's read reports, and the `seen`
frame the visitor gets when an agent has read their thread.

Typed against `ContextSession`, the fields of chat/actors/visitor.py's session it uses.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Protocol

from ua_parser import parse as parse_user_agent

from chat.actors.frame_outbox import Outbox
from chat.actors.socket import SessionDeps
from chat.db.rows import SpaceRow
from chat.events import ReadMarked
from chat.protocol.context import check_attributes
from chat.protocol.inbound import Identify, Page, VisitorRead
from chat.protocol.outbound import Frame, seen_frame

logger = logging.getLogger(__name__)
# A User-Agent longer than this is cut before parsing: the parser's regexes on a huge header
# would cost CPU for nothing a real browser sends.
USER_AGENT_CHARS = 512


@dataclass
class BrowserContext:
    """What the session knows of the visitor's browser; written once per session."""

    user_agent: str = ""
    locale: str | None = None
    timezone: str | None = None
    page_title: str | None = None
    written: bool = False


class ContextSession(Protocol):
    deps: SessionDeps
    space: SpaceRow
    visitor_id: str
    thread_id: str | None
    outbox: Outbox
    browser: BrowserContext


@functools.lru_cache(maxsize=256)
def browser_and_os(user_agent: str) -> tuple[str | None, str | None]:
    """The browser and OS a User-Agent names ("Chrome 120", "Windows 10"); None when unknown.
    Cached: a site's visitors share a handful of User-Agents."""
    found = parse_user_agent(user_agent[:USER_AGENT_CHARS])

    def name(part: object) -> str | None:
        family = getattr(part, "family", None)
        if not family or family == "Other":
            return None
        major = getattr(part, "major", None)
        return f"{family} {major}" if major else str(family)

    return name(found.user_agent), name(found.os)


def note_page(session: ContextSession, frame: Page) -> None:
    """Remember the page's title and the browser's locale and time zone for the next write."""
    session.browser.page_title = frame.title
    if frame.locale:
        session.browser.locale = frame.locale
    if frame.timezone:
        session.browser.timezone = frame.timezone


async def page_fields(session: ContextSession, url: str) -> dict[str, str]:
    """The fields of a page write: the URL and title, and, the first time this session writes,
    the browser's context (parsed off the event loop: the parser's first use compiles its
    rules)."""
    ctx = session.browser
    fields = {"current_url": url}
    if ctx.page_title:
        fields["page_title"] = ctx.page_title
    if not ctx.written:
        browser, os = (None, None)
        if ctx.user_agent:
            browser, os = browser_and_os(ctx.user_agent)
        env = {"locale": ctx.locale, "timezone": ctx.timezone, "browser": browser, "os": os}
        fields.update({k: v for k, v in env.items() if v})
    return fields


def identify_attributes(frame: Identify) -> dict[str, str]:
    """The `attributes` field of an identify write (checked JSON), or none."""
    if frame.attributes is None:
        return {}
    return {"attributes": check_attributes(frame.attributes)}


async def handle_read(session: ContextSession, frame: VisitorRead) -> None:
    """The visitor saw their thread up to `frame.id`; agents hear it as a `read` frame. Without
    an open thread there is nothing to mark (ignored)."""
    if session.thread_id is None:
        return
    try:
        await session.deps.stream_log.read_state.do_mark_read(
            session.space.id, session.thread_id, "visitor", session.visitor_id, frame.id
        )
    except LookupError:
        logger.debug("visitor %s read a thread that is gone", session.visitor_id)


async def send_seen(session: ContextSession) -> None:
    """After the welcome: how far an agent has read the visitor's thread, if any has."""
    if session.thread_id is None:
        return
    markers = await session.deps.stream_log.read_state.markers(session.space.id, session.thread_id)
    agents = [m for field, m in markers.items() if field.startswith("a:")]
    if agents:
        newest = max(agents, key=lambda m: tuple(int(p) for p in m.split("-")))
        await session.outbox.send(seen_frame(session.thread_id, newest))


def seen_of(entry_event: ReadMarked) -> Frame | None:
    """The visitor's frame for a `read` entry of their thread: an agent's read, as `seen`."""
    if entry_event.reader_type != "agent":
        return None
    return seen_frame(entry_event.thread_id, entry_event.message_id)
