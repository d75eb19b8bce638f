"""Reading a visitor's emailed reply (chat/mail/inbound.py): the thread, the dedupe id, the new
text without the quoted mail."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

from chat.mail.addresses import reply_address, reply_key
from chat.mail.compose import REPLY_ABOVE_MARKER
from chat.mail.inbound import read_reply, strip_quoted

KEY = reply_key("", "a-secret-key-of-at-least-32-characters")
THREAD = str(uuid.uuid4())


def _mail(text: str, *, html: str | None = None, header: str = "To", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "lea@example.org"
    msg[header] = f"Lea's helper <{reply_address(KEY, THREAD, 'r.example.com')}>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return bytes(msg)


def test_a_reply_names_its_thread_wherever_the_address_is() -> None:
    for header in ("To", "Cc", "Delivered-To", "X-Original-To"):
        reply = read_reply(_mail("Yes", header=header, Message_ID="<a@x>"), KEY)
        assert reply is not None and reply.thread_id == THREAD, header
        assert reply.text == "Yes"


def test_the_same_message_id_is_the_same_client_id() -> None:
    first = read_reply(_mail("Yes", Message_ID="<a@x>"), KEY)
    again = read_reply(_mail("Yes", Message_ID="<a@x>", Received="by mx2"), KEY)
    other = read_reply(_mail("Yes", Message_ID="<b@x>"), KEY)
    assert first is not None and again is not None and other is not None
    assert first.client_id == again.client_id != other.client_id
    assert first.client_id.startswith("email:") and len(first.client_id) == 38


def test_a_mail_to_no_reply_address_is_none() -> None:
    raw = b"From: a@example.org\r\nTo: support@example.org\r\n\r\nhello\r\n"
    assert read_reply(raw, KEY) is None


def test_quotes_of_common_clients_are_cut() -> None:
    gmail = "Thanks!\n\nOn Sat, 5 Dec 2026 at 10:00, Shop <chat@shop.example>\nwrote:\n> Hi"
    outlook = "Thanks!\n\n-----Original Message-----\nFrom: Shop\nSent: today\n\nHi"
    outlook_new = "Thanks!\n\n________________________________\nFrom: Shop <chat@x>\nHi"
    marker = f"Thanks!\n\n{REPLY_ABOVE_MARKER}\n\nAda (Shop) wrote:\nHi"
    signed = "Thanks!\n-- \nLea, sent from her desk"
    for text in (gmail, outlook, outlook_new, marker, signed):
        assert strip_quoted(text) == "Thanks!", text
    # An ordinary line that starts like an attribution is kept.
    kept = "On Monday I can come by.\nSee you."
    assert strip_quoted(kept) == kept


def test_an_html_only_reply_is_read_as_text() -> None:
    msg = EmailMessage()
    msg["To"] = reply_address(KEY, THREAD, "r.example.com")
    msg.set_content(
        "<div>Sounds <b>good</b></div><div>Lea</div><blockquote>the old mail</blockquote>",
        subtype="html",
    )
    reply = read_reply(bytes(msg), KEY)
    assert reply is not None
    assert reply.text == "Sounds good\n\nLea"
