"""POST /api/v1/inbound/email's limits: its body size, its media types, a reply of nothing but
quotes."""

from __future__ import annotations

import trio

from tests.email.conftest import INBOUND_TOKEN
from tests.email.helpers import answer_by_mail, leave_lead, post_mail, reply_to
from tests.helpers.chat import make_org
from tests.helpers.http import call
from tests.helpers.mail import Sink

MIB = 1024 * 1024
INBOUND = "/api/v1/inbound/email"


async def test_a_long_mail_up_to_a_mib_is_read_and_cut_to_a_message(
    mail_base_url: str, sink: Sink
) -> None:
    with trio.fail_after(60):
        org = await make_org(mail_base_url)
        thread = await leave_lead(org, "lea@example.org")
        answer = await answer_by_mail(mail_base_url, org, thread["id"], sink)
        # Over REST's 64 KiB, under the route's 1 MiB; its text is over a message's 4,000.
        raw = reply_to(answer, "word " * 40_000, message_id="<long@example.org>")
        assert 64 * 1024 < len(raw) < MIB
        posted = await post_mail(mail_base_url, raw)
        assert posted.status == 202, posted.body
        page = await call(
            "GET", f"{mail_base_url}/api/v1/threads/{thread['id']}/messages", token=org.token
        )
        [stored] = [m for m in page.body["items"] if m["id"] == posted.body["id"]]
        assert len(stored["content"]) == 4000 and stored["content"].endswith("…")
        too_big = await post_mail(mail_base_url, raw + b"x" * MIB)
        assert too_big.status == 413 and too_big.body["error"]["code"] == "too_large"


async def test_other_media_types_and_empty_replies_are_refused(
    mail_base_url: str, sink: Sink
) -> None:
    with trio.fail_after(60):
        org = await make_org(mail_base_url)
        thread = await leave_lead(org, "lea@example.org")
        answer = await answer_by_mail(mail_base_url, org, thread["id"], sink)
        empty = await post_mail(mail_base_url, reply_to(answer, "", message_id="<e@example.org>"))
        assert empty.status == 400 and empty.body["error"]["code"] == "invalid"
        raw = reply_to(answer, "As text/plain", message_id="<plain@example.org>")
        auth = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
        as_json = await call("POST", mail_base_url + INBOUND, {"mail": raw.decode()}, headers=auth)
        assert as_json.status == 415, as_json.body
        assert as_json.body["error"]["code"] == "unsupported_media_type"
        plain = await call(
            "POST", mail_base_url + INBOUND, raw, headers={**auth, "Content-Type": "text/plain"}
        )
        assert plain.status == 202, plain.body
        assert plain.body["thread_id"] == thread["id"]
