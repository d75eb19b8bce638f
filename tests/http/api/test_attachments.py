"""Attachments end to end over a real server: uploads, who may have a link, what a link serves,
and the limits (structures.md, "Attachments"). The local folder and S3 (moto's server) alike."""

from __future__ import annotations

import time
import uuid
from typing import Any

import trio
from pydantic import SecretStr

from chat.config import Settings
from chat.files.links import sign_link
from chat.server import serve
from tests.conftest import SECRET
from tests.files.images import HTML, PDF, png
from tests.helpers.chat import ORIGIN, Org, make_org, widget
from tests.helpers.http import Reply, call
from tests.helpers.s3 import BUCKET, S3_CREDENTIALS, s3_endpoint  # noqa: F401 (a fixture)


async def visitor_upload(
    org: Org, session: str, data: bytes, *, name: str = "photo.png", declared: str = "image/png"
) -> Reply:
    return await call(
        "POST",
        f"{org.base}/api/v1/widget/{org.space['widget_key']}/attachments?name={name}",
        data,
        origin=ORIGIN,
        headers={"Content-Type": declared, "X-Chat-Session": session},
    )


async def visitor_link(org: Org, session: str, attachment_id: str) -> Reply:
    return await call(
        "GET",
        f"{org.base}/api/v1/widget/{org.space['widget_key']}/attachments/{attachment_id}/link",
        origin=ORIGIN,
        headers={"X-Chat-Session": session},
    )


async def fetch(org: Org, url: str) -> Reply:
    return await call("GET", org.base + url)


async def new_visitor(org: Org) -> tuple[str, str]:
    """A visitor who has written once: their session token and thread id."""
    async with widget(org) as (client, welcome):
        ack = await client.say("hello")
    return welcome["session"], ack["thread_id"]


async def test_a_visitor_uploads_an_image_and_its_link_serves_it(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        session, _ = await new_visitor(org)
        image = png()
        up = await visitor_upload(org, session, image)
        assert up.status == 201, up.body
        assert up.body["attachment"]["content_type"] == "image/png"
        assert up.body["attachment"]["kind"] == "image"
        assert up.body["attachment"]["size"] == len(image)
        got = await fetch(org, up.body["url"])
    assert got.status == 200
    assert got.header("Content-Type") == "image/png"
    assert got.header("X-Content-Type-Options") == "nosniff"
    assert "sandbox" in (got.header("Content-Security-Policy") or "")
    assert (got.header("Content-Disposition") or "").startswith("inline")


async def test_links_go_to_the_conversations_participants_only(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        other_org = await make_org(base_url)
        session, thread_id = await new_visitor(org)
        other_session, _ = await new_visitor(org)
        up = await visitor_upload(org, session, png())
        attachment_id = up.body["attachment"]["id"]

        assert (await visitor_link(org, session, attachment_id)).status == 200
        refused = await visitor_link(org, other_session, attachment_id)
        assert refused.status == 404 and refused.body["error"]["code"] == "not_found"
        link = f"{base_url}/api/v1/attachments/{attachment_id}/link"
        ours = await call("GET", link, token=org.token)
        assert ours.status == 200 and (await fetch(org, ours.body["url"])).status == 200
        theirs = await call("GET", link, token=other_org.token)
        assert theirs.status == 404 and theirs.body["error"]["code"] == "not_found"
        # Nor may another organization's agent upload into the conversation.
        upload = f"{base_url}/api/v1/threads/{thread_id}/attachments?name=x.png"
        headers = {"Content-Type": "image/png"}
        foreign = await call("POST", upload, png(), token=other_org.token, headers=headers)
        assert foreign.status == 404
        own = await call("POST", upload, png(), token=org.token, headers=headers)
        assert own.status == 201, own.body
        # The visitor of that thread gets a link to what the agent sent them; others do not.
        sent = own.body["attachment"]["id"]
        assert (await visitor_link(org, session, sent)).status == 200
        assert (await visitor_link(org, other_session, sent)).status == 404


async def test_a_link_is_refused_after_expiry_and_when_altered(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        session, _ = await new_visitor(org)
        up = await visitor_upload(org, session, png())
        file_id = up.body["attachment"]["id"]
        expires, sig = sign_link(SECRET, file_id, int(time.time()) - 600, 300)
        expired = await fetch(org, f"/api/v1/files/{file_id}?expires={expires}&sig={sig}")
        assert expired.status == 404 and expired.body["error"]["code"] == "not_found"
        url: str = up.body["url"]
        stretched = url.replace("expires=", "expires=9")
        assert (await fetch(org, stretched)).status == 404
        other = str(uuid.uuid4())
        assert (await fetch(org, url.replace(file_id, other))).status == 404


async def test_html_declared_as_png_is_refused_and_text_is_never_served_as_html(
    base_url: str,
) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        session, _ = await new_visitor(org)
        refused = await visitor_upload(org, session, HTML, name="cat.png")
        assert refused.status == 415
        assert refused.body["error"]["code"] == "file_type_not_allowed"
        # Text that merely contains markup is stored as text, and served as a download.
        text = b"notes: <b>bold</b> <script>alert(1)</script>\n"
        up = await visitor_upload(org, session, text, name="page.html", declared="text/html")
        assert up.status == 201, up.body
        assert up.body["attachment"]["content_type"] == "text/plain"
        got = await fetch(org, up.body["url"])
    assert got.status == 200
    assert (got.header("Content-Type") or "").startswith("text/plain")
    assert (got.header("Content-Disposition") or "").startswith("attachment")
    assert got.header("X-Content-Type-Options") == "nosniff"


async def test_size_and_type_limits_are_the_spaces(base_url: str) -> None:
    settings: dict[str, Any] = {"attachment_max_bytes": 1024, "attachment_kinds": ["image"]}
    with trio.fail_after(30):
        org = await make_org(base_url, settings=settings)
        session, _ = await new_visitor(org)
        big = png(256) + b"\x00" * 2048
        too_large = await visitor_upload(org, session, big)
        assert too_large.status == 413 and too_large.body["error"]["code"] == "too_large"
        pdf = await visitor_upload(org, session, PDF, name="a.pdf", declared="application/pdf")
        assert pdf.status == 415 and pdf.body["error"]["code"] == "file_type_not_allowed"
        assert (await visitor_upload(org, session, png())).status == 201


async def test_uploads_need_a_session_and_an_allowed_origin(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        url = f"{base_url}/api/v1/widget/{org.space['widget_key']}/attachments?name=a.png"
        no_session = await call("POST", url, png(), origin=ORIGIN)
        assert no_session.status == 401
        session, _ = await new_visitor(org)
        elsewhere = await call(
            "POST", url, png(), origin="https://evil.example", headers={"X-Chat-Session": session}
        )
        assert elsewhere.status == 403


async def test_the_routes_are_in_the_openapi_document(base_url: str) -> None:
    with trio.fail_after(10):
        doc = (await call("GET", f"{base_url}/api/v1/openapi.json")).body
    paths = doc["paths"]
    assert "/api/v1/widget/{widget_key}/attachments" in paths or any(
        p.endswith("/attachments") for p in paths
    )
    assert any(p.endswith("/files/{attachment_id}") for p in paths)


async def test_the_s3_store_serves_the_same_way(
    settings: Settings,
    nursery: trio.Nursery,
    s3_endpoint: str,  # noqa: F811
) -> None:
    s3 = settings.model_copy(
        update={
            "s3_bucket": BUCKET,
            "s3_endpoint_url": s3_endpoint,
            "s3_access_key_id": S3_CREDENTIALS["aws_access_key_id"],
            "s3_secret_access_key": SecretStr(S3_CREDENTIALS["aws_secret_access_key"]),
        }
    )
    with trio.fail_after(40):
        binds = await nursery.start(serve, s3, "127.0.0.1", 0)
        org = await make_org(str(binds[0]))
        session, _ = await new_visitor(org)
        image = png()
        up = await visitor_upload(org, session, image)
        assert up.status == 201, up.body
        got = await trio.to_thread.run_sync(_raw_get, org.base + up.body["url"])
    assert got == image


def _raw_get(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=20) as resp:  # noqa: S310
        body: bytes = resp.read()
    return body
