"""Attachments' rows (structures.md, "Attachments"): written by the upload route, read when a
participant asks for a link. Another organization's attachment, or another visitor's, is not
found: the queries take the caller's scope, so a row outside it is never read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import psycopg
from psycopg.rows import class_row


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    id: str
    organization_id: str
    space_id: str
    visitor_id: str
    thread_id: str | None
    uploader_type: str
    uploader_id: str
    name: str
    content_type: str
    size: int
    created_at: datetime


_COLUMNS = (
    "id::text, organization_id::text, space_id::text, visitor_id::text, thread_id::text,"
    " uploader_type, uploader_id::text, name, content_type, size, created_at"
)


def insert_attachment(
    conn: psycopg.Connection,
    *,
    attachment_id: str,
    organization_id: str,
    space_id: str,
    visitor_id: str,
    thread_id: str | None,
    uploader_type: Literal["visitor", "agent"],
    uploader_id: str,
    name: str,
    content_type: str,
    size: int,
) -> AttachmentRow:
    with conn.cursor(row_factory=class_row(AttachmentRow)) as cur:
        cur.execute(
            "INSERT INTO attachments (id, organization_id, space_id, visitor_id, thread_id,"
            " uploader_type, uploader_id, name, content_type, size)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            f" RETURNING {_COLUMNS}",
            (
                attachment_id,
                organization_id,
                space_id,
                visitor_id,
                thread_id,
                uploader_type,
                uploader_id,
                name,
                content_type,
                size,
            ),
        )
        row = cur.fetchone()
    assert row is not None
    return row


def attachment_of_organization(
    conn: psycopg.Connection, organization_id: str, attachment_id: str
) -> AttachmentRow | None:
    """For an agent: any attachment of their organization's conversations."""
    with conn.cursor(row_factory=class_row(AttachmentRow)) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM attachments WHERE id = %s AND organization_id = %s",
            (attachment_id, organization_id),
        )
        return cur.fetchone()


def attachment_of_visitor(
    conn: psycopg.Connection, space_id: str, visitor_id: str, attachment_id: str
) -> AttachmentRow | None:
    """For a visitor: only the attachments of their own conversations in this space."""
    with conn.cursor(row_factory=class_row(AttachmentRow)) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM attachments"
            " WHERE id = %s AND space_id = %s AND visitor_id = %s",
            (attachment_id, space_id, visitor_id),
        )
        return cur.fetchone()


def attachment_by_id(conn: psycopg.Connection, attachment_id: str) -> AttachmentRow | None:
    """For the file route, once a signed link has been checked: the link is the authority."""
    with conn.cursor(row_factory=class_row(AttachmentRow)) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM attachments WHERE id = %s", (attachment_id,))
        return cur.fetchone()
