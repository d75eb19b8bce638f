"""Signed reply addresses (chat/mail/addresses.py)."""

from __future__ import annotations

import uuid

from chat.mail.addresses import reply_address, reply_key, thread_of_reply_address

KEY = reply_key("", "a-secret-key-of-at-least-32-characters")
THREAD = str(uuid.uuid4())


def test_a_reply_address_names_its_thread() -> None:
    address = reply_address(KEY, THREAD, "reply.example.com")
    assert address.startswith(f"reply+{THREAD}.") and address.endswith("@reply.example.com")
    assert len(address.partition("@")[0]) <= 64  # RFC 5321's limit on a local part
    assert thread_of_reply_address(KEY, address) == THREAD
    # Mail servers may fold the case of a local part; any domain forwards.
    assert thread_of_reply_address(KEY, address.upper()) == THREAD
    assert thread_of_reply_address(KEY, address.replace("reply.example.com", "x.org")) == THREAD


def test_a_forged_or_foreign_address_names_nothing() -> None:
    address = reply_address(KEY, THREAD, "reply.example.com")
    local, _, domain = address.partition("@")
    other_thread = str(uuid.uuid4())
    flipped = local[:-1] + ("0" if local[-1] != "0" else "1")
    assert thread_of_reply_address(KEY, f"{flipped}@{domain}") is None
    assert thread_of_reply_address(KEY, address.replace(THREAD, other_thread)) is None
    other_key = reply_key("", "another-secret-key-of-32-characters!")
    assert thread_of_reply_address(other_key, address) is None
    assert thread_of_reply_address(KEY, "lea@example.org") is None
    # A reply secret of its own signs differently from the one derived from SECRET_KEY.
    assert thread_of_reply_address(reply_key("own", "x" * 32), address) is None
