"""Writing in a conversation over REST, and handing it over from a bot (structures.md, "Bots"):
what a bot working by webhooks does (it hears `message.created` and answers here), and what
any agent client without a socket may do. The agent socket's `message` and `handover` frames do
the same through the same commands."""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.commands.bots import do_handover_as
from chat.events import QuickReply
from chat.http.api.threads import space_of_thread
from chat.http.auth import Caller
from chat.http.bot_models import Handover, MessageAck, PostMessage
from chat.http.openapi import Routes
from chat.http.replies import Thread
from chat.protocol.inbound import check_content
from chat.protocol.outbound import thread_json
from chat.services import Services

routes = Routes(tag="threads", api_keys=True)


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/messages",
    summary="Write in an open conversation (as the caller: an agent or a bot)",
    body=PostMessage,
    reply=MessageAck,
    status=201,
    errors=(409,),
)
async def post_message(
    services: Services, caller: Caller, thread_id: Any, body: PostMessage
) -> tuple[Response, int]:
    """Answered once the message is durably in the log, like the socket's ack. The same
    client_id sent again is stored once and answered with the first message's id. A closed
    conversation is 409 thread_closed."""
    space_id = await space_of_thread(services, caller, thread_id)
    ack = await services.stream_log.do_post_message(
        space_id,
        sender_type="agent",
        sender_id=caller.agent.id,
        sender_name=caller.agent.name,
        content=check_content(body.content),
        client_id=body.client_id,
        thread_id=str(thread_id),
        quick_replies=[QuickReply(label=q.label) for q in body.quick_replies or ()],
    )
    reply = {
        "client_id": ack.client_id,
        "id": ack.id,
        "thread_id": ack.thread_id,
        "created_at": ack.created_at,
    }
    return jsonify(reply), 201


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/handover",
    summary="Hand a bot's conversation to people (the bot holding it, or a supervisor)",
    body=Handover,
    reply=Thread,
    errors=(403, 409),
)
async def handover(services: Services, caller: Caller, thread_id: Any, body: Handover) -> Response:
    """The conversation goes back to the waiting queue at the place it had when it opened, with
    its history, and routing (or a claim) gives it to a person. The bot holding it hands it
    over; a supervisor or admin any bot's; an agent is 403 (claim it instead). 409
    already_claimed when no bot holds it (a person claimed it first: of a handover and a claim
    at once exactly one wins)."""
    space_id = await space_of_thread(services, caller, thread_id)
    thread = await do_handover_as(
        services.stream_log, caller.agent, space_id, str(thread_id), body.reason
    )
    return jsonify(thread_json(thread))
