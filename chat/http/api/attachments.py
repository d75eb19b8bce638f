"""Attachments over REST (structures.md, "Attachments"): uploads by agents and visitors, signed
links issued to a conversation's participants only, and the file route those links reach."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from quart import Response, jsonify, request

from chat.auth.rotation import check_session_token_any
from chat.clock import now_ms
from chat.db import attachment_queries, space_queries, thread_queries
from chat.db.attachment_queries import AttachmentRow
from chat.db.rows import SpaceRow
from chat.errors import (
    IdentityRequiredError,
    NotFoundError,
    OriginNotAllowedError,
    UnauthorizedError,
)
from chat.files.links import link_valid, sign_link
from chat.files.sniffing import check_file
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.origin import origin_allowed
from chat.http.sign_in_copy import org_spaces
from chat.protocol.inbound import clean_name
from chat.services import Services
from chat.space_settings import SpaceSettings

routes = Routes(tag="attachments", api_keys=True)

# The declared type is never trusted (chat/files/sniffing.py): any is read, these are listed.
UPLOAD_MEDIA_TYPES = ("application/octet-stream", "image/png", "image/jpeg", "application/pdf")
SESSION_HEADER = "X-Chat-Session"
MAX_FILE_NAME_CHARS = 255
# The file route's own policy: nothing in a served file may run or load anything, even when a
# browser is talked into rendering it (sandbox: a unique origin, no scripts, no forms).
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


class UploadQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_FILE_NAME_CHARS, description="The file name")


class LinkQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    expires: int = Field(ge=0, le=2**53, description="Epoch seconds after which it is refused")
    # base64url only: hmac.compare_digest takes ASCII text alone.
    sig: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    name: str
    content_type: str
    kind: Literal["image", "pdf", "text"]
    size: int
    created_at: str


class AttachmentLink(BaseModel):
    model_config = ConfigDict(frozen=True)

    attachment: Attachment
    url: str = Field(description="A signed link, valid until expires_at, to this file only")
    expires_at: str


def _kind(content_type: str) -> str:
    if content_type.startswith("image/"):
        return "image"
    return "pdf" if content_type == "application/pdf" else "text"


def attachment_json(row: AttachmentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "content_type": row.content_type,
        "kind": _kind(row.content_type),
        "size": row.size,
        "created_at": row.created_at.isoformat().replace("+00:00", "Z"),
    }


def _link_json(services: Services, row: AttachmentRow) -> dict[str, Any]:
    ttl = services.settings.attachment_link_seconds
    expires, sig = sign_link(services.settings.secret_key, row.id, now_ms() // 1000, ttl)
    at = dt.datetime.fromtimestamp(expires, dt.UTC).isoformat().replace("+00:00", "Z")
    return {
        "attachment": attachment_json(row),
        "url": f"/api/v1/files/{row.id}?expires={expires}&sig={sig}",
        "expires_at": at,
    }


async def _store(
    services: Services,
    space: SpaceRow,
    *,
    visitor_id: str,
    thread_id: str | None,
    uploader: tuple[Literal["visitor", "agent"], str],
    name: str,
) -> AttachmentRow:
    """Check the body against the space's limits, store the bytes, then the row (a row never
    names a file that was not stored; a file whose row failed is an orphan, never reachable)."""
    settings = SpaceSettings.of(space.settings)
    data = await request.get_data(cache=True, as_text=False)
    assert isinstance(data, bytes)  # as_text=False
    found = check_file(
        data, max_bytes=settings.attachment_max_bytes, kinds=frozenset(settings.attachment_kinds)
    )
    file_name = clean_name(name)[:MAX_FILE_NAME_CHARS] or "file"
    attachment_id = str(uuid.uuid4())
    await services.files.put(attachment_id, data, found.content_type)
    return await services.db.run(
        lambda c: attachment_queries.insert_attachment(
            c,
            attachment_id=attachment_id,
            organization_id=space.organization_id,
            space_id=space.id,
            visitor_id=visitor_id,
            thread_id=thread_id,
            uploader_type=uploader[0],
            uploader_id=uploader[1],
            name=file_name,
            content_type=found.content_type,
            size=len(data),
        )
    )


async def _thread_space(services: Services, caller: Caller, thread_id: str) -> tuple[SpaceRow, str]:
    """The space of one of the caller's organization's threads, and the thread's visitor;
    NotFoundError for anyone else's thread (the same lookup as the thread commands)."""
    org = caller.agent.organization_id
    spaces = [s.id for s in await org_spaces(services, org)]
    space_id = await services.thread_commands().space_of(org, thread_id, spaces)
    snapshot = await services.stream_log.thread_state(space_id, thread_id)
    if snapshot is not None:
        visitor_id = snapshot.visitor_id
    else:
        row = await services.db.run(lambda c: thread_queries.thread_with_visitor(c, org, thread_id))
        if row is None:
            raise NotFoundError("no such thread")
        visitor_id = str(row["visitor_id"])
    space = await services.db.run(lambda c: space_queries.space_by_id(c, org, space_id))
    if space is None:
        raise NotFoundError("no such thread")
    return space, visitor_id


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/attachments",
    summary="Upload a file to a conversation (the raw bytes as the body)",
    query=UploadQuery,
    raw_body=UPLOAD_MEDIA_TYPES,
    reply=AttachmentLink,
    status=201,
    errors=(400, 404, 413, 415),
)
async def agent_upload(
    services: Services, caller: Caller, thread_id: Any, query: UploadQuery
) -> Response:
    """Any agent of the thread's organization. The type is sniffed from the bytes (the declared
    Content-Type and the name are ignored): 415 `file_type_not_allowed` outside the space's
    `attachment_kinds`, 413 `too_large` over its `attachment_max_bytes`. The answer carries a
    signed link; the message that shows it is sent over the socket with `attachment_id`."""
    space, visitor_id = await _thread_space(services, caller, str(thread_id))
    row = await _store(
        services,
        space,
        visitor_id=visitor_id,
        thread_id=str(thread_id),
        uploader=("agent", caller.agent.id),
        name=query.name,
    )
    reply = jsonify(_link_json(services, row))
    reply.status_code = 201
    return reply


@routes.route(
    "GET",
    "/attachments/<uuid:attachment_id>/link",
    summary="A fresh signed link to one of the organization's attachments",
    reply=AttachmentLink,
    errors=(404,),
)
async def agent_link(services: Services, caller: Caller, attachment_id: Any) -> Response:
    """Another organization's attachment is 404 not_found."""
    org = caller.agent.organization_id
    row = await services.db.run(
        lambda c: attachment_queries.attachment_of_organization(c, org, str(attachment_id))
    )
    if row is None:
        raise NotFoundError("no such attachment")
    return jsonify(_link_json(services, row))


async def visitor_space(services: Services, widget_key: str) -> tuple[SpaceRow, str]:
    """The widget's space and the visitor its session token names; the same Origin rule as the
    widget socket."""
    space = await services.spaces.space_by_widget_key(widget_key)
    if space is None:
        raise NotFoundError("unknown widget key")
    if not origin_allowed(request.headers.get("Origin"), space.allowed_domains):
        raise OriginNotAllowedError()
    token = request.headers.get(SESSION_HEADER, "")
    visitor_id, _ = check_session_token_any(services.settings.verifying_keys, space.id, token)
    if visitor_id is None:
        raise UnauthorizedError(f"send the widget's session token in {SESSION_HEADER}")
    return space, visitor_id


@routes.route(
    "POST",
    "/widget/<widget_key>/attachments",
    summary="A visitor uploads a file (the raw bytes as the body)",
    auth="public",
    query=UploadQuery,
    raw_body=UPLOAD_MEDIA_TYPES,
    reply=AttachmentLink,
    status=201,
    errors=(400, 401, 403, 404, 413, 415),
)
async def visitor_upload(services: Services, widget_key: str, query: UploadQuery) -> Response:
    """With the widget's session token in X-Chat-Session, from an allowed Origin. Limits as for
    agents; the file belongs to the visitor's conversations."""
    space, visitor_id = await visitor_space(services, widget_key)
    if SpaceSettings.of(space.settings).require_identity:
        # A file is for a message, which such a visitor may not send (structures.md "Signed
        # visitor identity"): refused before any byte is stored.
        if await services.stream_log.identity.sub_of(space.id, visitor_id) is None:
            raise IdentityRequiredError()
    row = await _store(
        services,
        space,
        visitor_id=visitor_id,
        thread_id=None,
        uploader=("visitor", visitor_id),
        name=query.name,
    )
    reply = jsonify(_link_json(services, row))
    reply.status_code = 201
    return reply


@routes.route(
    "GET",
    "/widget/<widget_key>/attachments/<uuid:attachment_id>/link",
    summary="A fresh signed link to an attachment of the visitor's own conversations",
    auth="public",
    reply=AttachmentLink,
    errors=(401, 403, 404),
)
async def visitor_link(services: Services, widget_key: str, attachment_id: Any) -> Response:
    """Another visitor's attachment is 404 not_found."""
    space, visitor_id = await visitor_space(services, widget_key)
    row = await services.db.run(
        lambda c: attachment_queries.attachment_of_visitor(
            c, space.id, visitor_id, str(attachment_id)
        )
    )
    if row is None:
        raise NotFoundError("no such attachment")
    return jsonify(_link_json(services, row))


@routes.route(
    "GET",
    "/files/<uuid:attachment_id>",
    summary="An attachment's bytes, through a signed link",
    auth="public",
    query=LinkQuery,
    errors=(404,),
)
async def get_file(services: Services, attachment_id: Any, query: LinkQuery) -> Response:
    """The link is the authority: a wrong signature, another file's, or an expired link is 404
    not_found. Images are served inline (for thumbnails), everything else as a download; never
    as HTML (only sniffed types are stored), with nosniff and a sandboxing CSP."""
    file_id = str(attachment_id)
    secret = services.settings.secret_key
    if not link_valid(secret, file_id, query.expires, query.sig, now_ms() // 1000):
        raise NotFoundError("no such file, or the link has expired")
    row = await services.db.run(lambda c: attachment_queries.attachment_by_id(c, file_id))
    if row is None:
        raise NotFoundError("no such file, or the link has expired")
    data = await services.files.get(file_id)
    reply = Response(data, status=200, mimetype=row.content_type)
    inline = row.content_type.startswith("image/")
    ascii_name = row.name.encode("ascii", "replace").decode().replace('"', "_")
    reply.headers["Content-Disposition"] = (
        f'{"inline" if inline else "attachment"}; filename="{ascii_name}"'
    )
    reply.headers["X-Content-Type-Options"] = "nosniff"
    reply.headers["Content-Security-Policy"] = FILE_CSP
    reply.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    # Private: the link is a capability; no shared cache keeps it past its expiry.
    reply.headers["Cache-Control"] = f"private, max-age={max(0, query.expires - now_ms() // 1000)}"
    return reply
