"""Webhook endpoints, their delivery log and replay; admins only (structures.md, "Webhooks").

An endpoint's secret is answered on create and on rotate only. Another organization's endpoint,
or a deleted one, is not found.
"""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.db import webhook_queries
from chat.db.webhook_queries import MAX_ENDPOINTS_PER_ORGANIZATION, DeliveryRow, EndpointRow
from chat.errors import FieldInvalidError, NotFoundError, WebhookDestinationError, WebhookLimitError
from chat.http.api.views import no_content
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.webhook_models import (
    CreateWebhook,
    DeliveryList,
    DeliveryListQuery,
    ReplayStarted,
    ReplayWebhook,
    UpdateWebhook,
    Webhook,
    WebhookList,
    WebhookWithSecret,
)
from chat.ids import parse_id
from chat.json_types import Json
from chat.services import Services
from chat.webhooks.destinations import Policy, check_registration
from chat.webhooks.signing import new_secret

routes = Routes(tag="webhooks")

_NOT_FOUND = "no such webhook"
# The largest sequence number of a stream id: "every event of that millisecond".
_MAX_SEQ = 2**63 - 1


@routes.route(
    "GET", "/webhooks", summary="The organization's webhooks", auth="admin", reply=WebhookList
)
async def list_webhooks(services: Services, caller: Caller) -> Response:
    org = caller.agent.organization_id
    rows = await services.db.run(lambda c: webhook_queries.list_endpoints(c, org))
    return jsonify({"items": [_json(r) for r in rows]})


@routes.route(
    "POST",
    "/webhooks",
    summary="Register a webhook endpoint",
    auth="admin",
    body=CreateWebhook,
    reply=WebhookWithSecret,
    status=201,
    errors=(409, 422),
)
async def create_webhook(
    services: Services, caller: Caller, body: CreateWebhook
) -> tuple[Response, int]:
    """The answer carries the signing secret, shown this once (rotate for a new one). 422 on
    `url` for a destination that is refused (private, loopback, link-local: SSRF); 409
    too_many_webhooks past 50 endpoints."""
    org = caller.agent.organization_id
    await _check_url(services, body.url)
    secret = new_secret()

    def create(conn: Any) -> EndpointRow:
        if webhook_queries.count_endpoints(conn, org) >= MAX_ENDPOINTS_PER_ORGANIZATION:
            raise WebhookLimitError(limit=MAX_ENDPOINTS_PER_ORGANIZATION)
        return webhook_queries.create_endpoint(
            conn, org, body.url, list(body.kinds), secret, body.description, body.enabled
        )

    row = await services.db.run(create)
    return jsonify({**_json(row), "secret": row.secret}), 201


@routes.route(
    "GET", "/webhooks/<uuid:webhook_id>", summary="One webhook", auth="admin", reply=Webhook
)
async def get_webhook(services: Services, caller: Caller, webhook_id: Any) -> Response:
    return jsonify(_json(await _endpoint(services, caller, webhook_id)))


@routes.route(
    "PATCH",
    "/webhooks/<uuid:webhook_id>",
    summary="Change a webhook's URL, kinds or description, or enable or disable it",
    auth="admin",
    body=UpdateWebhook,
    reply=Webhook,
    errors=(422,),
)
async def update_webhook(
    services: Services, caller: Caller, webhook_id: Any, body: UpdateWebhook
) -> Response:
    """Disabled: no new events are enqueued for it and its pending deliveries wait; enabled
    again, they go out. New kinds apply to events ingested from then on (replay for earlier)."""
    org = caller.agent.organization_id
    if body.url is not None:
        await _check_url(services, body.url)
    changes: dict[str, Any] = body.model_dump(exclude_none=True)
    row = await services.db.run(
        lambda c: webhook_queries.update_endpoint(c, org, str(webhook_id), changes)
    )
    if row is None:
        raise NotFoundError(_NOT_FOUND)
    services.webhook_sender.wake()  # enabled again: its waiting deliveries are due
    return jsonify(_json(row))


@routes.route(
    "DELETE", "/webhooks/<uuid:webhook_id>", summary="Remove a webhook", auth="admin", status=204
)
async def delete_webhook(services: Services, caller: Caller, webhook_id: Any) -> Response:
    """Its pending deliveries are dropped; nothing more is sent to it."""
    org = caller.agent.organization_id
    if not await services.db.run(
        lambda c: webhook_queries.delete_endpoint(c, org, str(webhook_id))
    ):
        raise NotFoundError(_NOT_FOUND)
    return no_content()


@routes.route(
    "POST",
    "/webhooks/<uuid:webhook_id>/rotate-secret",
    summary="Replace a webhook's signing secret",
    auth="admin",
    reply=WebhookWithSecret,
)
async def rotate_secret(services: Services, caller: Caller, webhook_id: Any) -> Response:
    """Every delivery from now on (retries too) is signed with the new secret."""
    org = caller.agent.organization_id
    secret = new_secret()
    row = await services.db.run(
        lambda c: webhook_queries.update_endpoint(c, org, str(webhook_id), {"secret": secret})
    )
    if row is None:
        raise NotFoundError(_NOT_FOUND)
    return jsonify({**_json(row), "secret": row.secret})


@routes.route(
    "POST",
    "/webhooks/<uuid:webhook_id>/replay",
    summary="Re-send every event of the webhook's kinds after an event id or from a time",
    auth="admin",
    body=ReplayWebhook,
    reply=ReplayStarted,
    status=202,
)
async def replay_webhook(
    services: Services, caller: Caller, webhook_id: Any, body: ReplayWebhook
) -> tuple[Response, int]:
    """Every stored event (CHAT_WEBHOOK_RETENTION_DAYS) of the endpoint's kinds, over all the
    organization's spaces, after `from_event_id` (a stream id: a position in time) or at or
    after `from_time`, is delivered again under its own id, in order per conversation, whether
    it was delivered, failed or never sent."""
    endpoint = await _endpoint(services, caller, webhook_id)
    if body.from_event_id is not None:
        after = parse_id(body.from_event_id)
    else:
        assert body.from_time is not None
        after = (int(body.from_time.timestamp() * 1000) - 1, _MAX_SEQ)
    count = await services.db.run(lambda c: webhook_queries.replay(c, endpoint.id, *after))
    services.webhook_sender.wake()
    return jsonify({"enqueued": count}), 202


@routes.route(
    "GET",
    "/webhooks/<uuid:webhook_id>/deliveries",
    summary="The webhook's delivery log, newest event first",
    auth="admin",
    query=DeliveryListQuery,
    reply=DeliveryList,
)
async def list_deliveries(
    services: Services, caller: Caller, webhook_id: Any, query: DeliveryListQuery
) -> Response:
    endpoint = await _endpoint(services, caller, webhook_id)
    before = None
    if query.cursor is not None:
        entry, _, space = query.cursor.partition(".")
        before = (*parse_id(entry), space)
    rows = await services.db.run(
        lambda c: webhook_queries.deliveries(c, endpoint.id, query.status, before, query.limit)
    )
    last = rows[-1] if len(rows) == query.limit else None
    return jsonify(
        {
            "items": [_delivery_json(r) for r in rows],
            "next_cursor": f"{last.event_id}.{last.space_id}" if last else None,
        }
    )


async def _endpoint(services: Services, caller: Caller, webhook_id: Any) -> EndpointRow:
    org = caller.agent.organization_id
    row = await services.db.run(lambda c: webhook_queries.endpoint_by_id(c, org, str(webhook_id)))
    if row is None:
        raise NotFoundError(_NOT_FOUND)
    return row


async def _check_url(services: Services, url: str) -> None:
    s = services.settings
    try:
        await check_registration(
            url, Policy.of(s.webhook_allow_private, s.webhook_allowed_networks)
        )
    except WebhookDestinationError as exc:
        raise FieldInvalidError("url", exc.message) from exc


def _json(row: EndpointRow) -> Json:
    return {
        "id": row.id,
        "url": row.url,
        "kinds": list(row.kinds),
        "description": row.description,
        "enabled": row.enabled,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def _delivery_json(row: DeliveryRow) -> Json:
    return {
        "event_id": row.event_id,
        "space_id": row.space_id,
        "kind": row.kind,
        "status": row.status,
        "attempts": row.attempts,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "last_latency_ms": row.last_latency_ms,
        "last_attempt_at": row.last_attempt_at.isoformat() if row.last_attempt_at else None,
        "next_attempt_at": row.next_attempt_at.isoformat() if row.status == "pending" else None,
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
    }
