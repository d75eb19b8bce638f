"""The file a message carries: checked against who sends the message, before it is appended
(structures.md, "Attachments"). A file the sender may not show there is not found."""

from __future__ import annotations

from chat.db import attachment_queries
from chat.db.pool import Database
from chat.errors import NotFoundError
from chat.events import AttachmentRef


def _ref(row: attachment_queries.AttachmentRow) -> AttachmentRef:
    return AttachmentRef(id=row.id, name=row.name, content_type=row.content_type, size=row.size)


async def check_visitor_attachment(
    db: Database, space_id: str, visitor_id: str, attachment_id: str
) -> AttachmentRef:
    """A file of this visitor's own, in this space."""
    row = await db.run(
        lambda c: attachment_queries.attachment_of_visitor(c, space_id, visitor_id, attachment_id)
    )
    if row is None:
        raise NotFoundError("no such attachment")
    return _ref(row)


async def check_agent_attachment(
    db: Database, organization_id: str, thread_id: str, attachment_id: str
) -> AttachmentRef:
    """A file of the agent's organization uploaded to this very thread: its visitor is the one
    to whom links to it are issued, so it is shown nowhere else."""
    row = await db.run(
        lambda c: attachment_queries.attachment_of_organization(c, organization_id, attachment_id)
    )
    if row is None or row.thread_id != thread_id:
        raise NotFoundError("no such attachment")
    return _ref(row)


def content_with(content: str, attachment: AttachmentRef | None) -> str:
    """A message's text: an attachment without words stands as its file name."""
    if attachment is not None and not content.strip():
        return attachment.name
    return content
