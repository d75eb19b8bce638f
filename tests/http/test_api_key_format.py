"""The API key's format, hash and scope rule (chat/auth/api_keys.py), without a server."""

from __future__ import annotations

import hashlib

from chat.auth.api_keys import (
    api_key_hash,
    api_key_id,
    api_key_matches,
    looks_like_api_key,
    new_api_key,
    required_scope,
)


def key_secret(key: str) -> str:
    """The random part: after `chat_sk_`, the 32-hex id and `_` (it may hold `_` itself)."""
    return key[len("chat_sk_") + 33 :]


def test_a_new_key_names_its_row_and_only_its_hash_is_kept() -> None:
    new, other = new_api_key(), new_api_key()
    assert new.key != other.key and new.id != other.id
    assert api_key_id(new.key) == new.id
    assert looks_like_api_key(new.key) and not looks_like_api_key("eyJhbGciOiJIUzI1NiJ9.x.y")
    assert new.key.startswith(new.prefix) and new.key.endswith(new.last4)
    assert new.key_hash == hashlib.sha256(new.key.encode()).digest() == api_key_hash(new.key)
    secret = key_secret(new.key)
    assert len(secret) == 43  # 32 random bytes, base64url without padding
    assert secret not in new.prefix and secret[:-4] not in repr(new.key_hash)
    assert api_key_matches(new.key, new.key_hash)
    assert not api_key_matches(other.key, new.key_hash)
    assert not api_key_matches(new.key[:-1], new.key_hash)


def test_malformed_keys_name_no_row() -> None:
    key = new_api_key().key
    secret = key_secret(key)
    head = key.removesuffix("_" + secret)
    for bad in (
        "chat_sk_",
        key + "x",  # a secret too long
        key[:-1],  # too short
        head.upper() + "_" + secret,  # the id in capitals
        key.replace("chat_sk_", "chat_pk_"),
        head + "_" + secret[:-1] + "=",  # padding or any other character
        " " + key,
    ):
        assert api_key_id(bad) is None, bad


def test_each_route_needs_exactly_one_scope() -> None:
    assert required_scope("GET", admin=False) == "read"
    assert required_scope("head", admin=False) == "read"
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        assert required_scope(method, admin=False) == "write"
        assert required_scope(method, admin=True) == "admin"
    assert required_scope("GET", admin=True) == "admin"
