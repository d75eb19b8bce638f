"""CORS on the widget's attachment routes (chat/http/widget_cors.py) over a real server: a
preflight from an allowed origin is answered, a refused one gets no CORS header, and the
answers (errors too) name the allowed origin only."""

from __future__ import annotations

import uuid

import trio

from tests.files.images import HTML, png
from tests.helpers.chat import ORIGIN, Org, make_org, widget
from tests.helpers.http import Reply, call

EVIL = "https://shop.example.com.evil.net"
PREFLIGHT_POST = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,x-chat-session",
}


async def preflight(url: str, origin: str, method: str = "POST") -> Reply:
    request = {**PREFLIGHT_POST, "Access-Control-Request-Method": method}
    return await call("OPTIONS", url, origin=origin, headers=request)


def upload_url(org: Org) -> str:
    return f"{org.base}/api/v1/widget/{org.space['widget_key']}/attachments?name=a.png"


def link_url(org: Org, attachment_id: str) -> str:
    key = org.space["widget_key"]
    return f"{org.base}/api/v1/widget/{key}/attachments/{attachment_id}/link"


async def session_of(org: Org) -> str:
    async with widget(org) as (_, welcome):
        return str(welcome["session"])


async def test_a_preflight_from_an_allowed_origin_is_answered(base_url: str) -> None:
    with trio.fail_after(20):
        org = await make_org(base_url)
        upload = await preflight(upload_url(org), ORIGIN)
        link = await preflight(link_url(org, str(uuid.uuid4())), ORIGIN, "GET")
    assert upload.status in (200, 204)
    assert upload.header("Access-Control-Allow-Origin") == ORIGIN
    assert upload.header("Access-Control-Allow-Methods") == "POST"
    allowed = (upload.header("Access-Control-Allow-Headers") or "").lower()
    assert "x-chat-session" in allowed and "content-type" in allowed
    assert "Origin" in (upload.header("Vary") or "")
    assert link.header("Access-Control-Allow-Origin") == ORIGIN
    assert link.header("Access-Control-Allow-Methods") == "GET"


async def test_a_refused_origin_or_key_gets_no_cors_headers(base_url: str) -> None:
    with trio.fail_after(20):
        org = await make_org(base_url)
        unknown = f"{org.base}/api/v1/widget/no-such-key/attachments?name=a.png"
        replies = [
            await preflight(upload_url(org), EVIL),
            await preflight(upload_url(org), "null"),
            await preflight(link_url(org, str(uuid.uuid4())), "https://evil.example", "GET"),
            await preflight(unknown, ORIGIN),
        ]
    for reply in replies:
        assert reply.header("Access-Control-Allow-Origin") is None
        assert reply.header("Access-Control-Allow-Headers") is None
        assert reply.header("Access-Control-Allow-Methods") is None


async def test_answers_and_errors_name_the_allowed_origin(base_url: str) -> None:
    """The widget reads the upload's answer, and its error code (too_large,
    file_type_not_allowed) to show the visitor."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        session = await session_of(org)
        headers = {"Content-Type": "image/png", "X-Chat-Session": session}
        up = await call("POST", upload_url(org), png(), origin=ORIGIN, headers=headers)
        refused = await call("POST", upload_url(org), HTML, origin=ORIGIN, headers=headers)
        link = await call(
            "GET",
            link_url(org, up.body["attachment"]["id"]),
            origin=ORIGIN,
            headers={"X-Chat-Session": session},
        )
        evil = await call("POST", upload_url(org), png(), origin=EVIL, headers=headers)
    assert up.status == 201
    assert up.header("Access-Control-Allow-Origin") == ORIGIN
    assert refused.status == 415
    assert refused.body["error"]["code"] == "file_type_not_allowed"
    assert refused.header("Access-Control-Allow-Origin") == ORIGIN
    assert link.status == 200
    assert link.header("Access-Control-Allow-Origin") == ORIGIN
    assert evil.status == 403
    assert evil.header("Access-Control-Allow-Origin") is None
