"""The typing preview (LiveChat's "sneak peek"; structures.md, "Typing preview"): while a visitor
types, the agents of a space with `typing_preview` on see the draft.

Privacy: off by default; with it off, a draft a widget sends anyway is dropped here, unread. A
draft is never stored: it rides a `typing` entry of the space stream only, each one replacing the
thread's previous draft there (chat/streams/lua_lifecycle.py PREVIEW), and a stop (typing off,
a message sent, the socket gone) deletes the last one. Never projected, never in a thread
stream, never sent to a visitor.
"""

from __future__ import annotations

import logging
from typing import NoReturn, Protocol

import trio

from chat.actors.pacing import Paced
from chat.actors.socket import STORAGE_ERRORS
from chat.streams.log import StreamLog

logger = logging.getLogger(__name__)

# At most two drafts a second reach the log per visitor socket (the latest wins), whatever the
# widget sends: agents read a draft, they do not need every keystroke.
PREVIEW_INTERVAL_SECONDS = 0.5
# A draft is cut to this many characters: enough to see where the visitor is going.
PREVIEW_CHARS = 500
# Removing the last draft when the socket ends must not hold the session's teardown up.
CLEAR_TIMEOUT_SECONDS = 2.0
# `Paced` hands out values; this one means "the visitor stopped: remove the last draft".
STOPPED = ""


class PreviewSession(Protocol):
    """What the preview uses of a visitor session (chat/actors/visitor.py)."""

    visitor_id: str
    thread_id: str | None
    preview: Paced[str]


def new_preview() -> Paced[str]:
    return Paced(PREVIEW_INTERVAL_SECONDS)


def offer_draft(preview: Paced[str], active: bool, draft: str | None, enabled: bool) -> None:
    """A typing frame's draft, when the space shows previews; a stop clears the last one."""
    if not enabled:
        return  # off (the default): the draft is never read, let alone stored
    if active and draft and draft.strip():
        preview.put(draft[:PREVIEW_CHARS])
    else:
        preview.put(STOPPED)


async def send_previews(session: PreviewSession, stream_log: StreamLog, space_id: str) -> NoReturn:
    """Append the paced drafts until cancelled; then remove the last one (shielded, bounded).

    A lost draft is harmless (the next one replaces it), so storage errors are logged and
    skipped, like typing."""
    shown = False
    try:
        while True:
            draft = await session.preview.take()
            if session.thread_id is None or (draft == STOPPED and not shown):
                continue
            try:
                await stream_log.lifecycle.do_preview(
                    space_id, session.thread_id, session.visitor_id, draft or None
                )
            except STORAGE_ERRORS as exc:
                logger.debug("visitor %s: draft not sent: %r", session.visitor_id, exc)
                continue
            shown = draft != STOPPED
    finally:
        if shown and session.thread_id is not None:
            with trio.move_on_after(CLEAR_TIMEOUT_SECONDS) as scope:
                scope.shield = True
                try:
                    await stream_log.lifecycle.do_preview(
                        space_id, session.thread_id, session.visitor_id, None
                    )
                except STORAGE_ERRORS as exc:
                    logger.debug("visitor %s: last draft left: %r", session.visitor_id, exc)
