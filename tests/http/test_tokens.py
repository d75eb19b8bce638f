"""Access and refresh tokens over REST: forged or tampered access tokens, refresh rotation and
reuse detection, logout, deleted agents, and password changes ending sign-ins.

Claims and the pinned algorithm are in chat/auth/tokens.py; sign-ins (refresh families) in
chat/db/accounts.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

import jwt
import jwt.warnings
import trio

from chat.auth.tokens import JWT_ALGORITHM
from chat.config import Settings
from tests.helpers.api import assert_error, create_agent
from tests.helpers.chat import PASSWORD, make_org
from tests.helpers.http import Reply, call

OTHER_SECRET = "another-secret-key-0123456789abcdef"


@dataclass
class SignIn:
    access: str
    refresh: str


async def sign_in(api: str, email: str, password: str = PASSWORD) -> SignIn:
    reply = await call("POST", f"{api}/auth/login", {"email": email, "password": password})
    assert reply.status == 200, reply.body
    return SignIn(reply.body["access_token"], reply.body["refresh_token"])


async def refreshed(api: str, refresh: str) -> SignIn:
    reply = await call("POST", f"{api}/auth/refresh", {"refresh_token": refresh})
    assert reply.status == 200, reply.body
    return SignIn(reply.body["access_token"], reply.body["refresh_token"])


async def me(api: str, token: str) -> Reply:
    return await call("GET", f"{api}/auth/me", token=token)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _hand_made(header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return head + "." + _b64(signature)


def _hs256(secret: str, header: dict[str, Any], claims: dict[str, Any]) -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + _b64(signature)


def forged_tokens(secret: str, claims: dict[str, Any], refresh: str) -> dict[str, str]:
    """Tokens that must all be refused, by what is wrong with them."""
    now = int(time.time())

    def signed(**change: Any) -> str:
        payload = {k: v for k, v in {**claims, **change}.items() if v is not None}
        return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)

    with warnings.catch_warnings():  # HS512/HS384 want longer keys; being refused is the point
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        hs512 = jwt.encode(claims, secret, algorithm="HS512")
        hs384 = jwt.encode(claims, secret, algorithm="HS384")
    genuine = signed()
    head, payload, signature = genuine.split(".")
    tampered = {**claims, "sub": str(uuid.uuid4())}
    return {
        "alg none": jwt.encode(claims, key=None, algorithm="none"),
        "alg none, hand made": _hand_made({"alg": "none", "typ": "JWT"}, claims, b""),
        "alg None": _hand_made({"alg": "None", "typ": "JWT"}, claims, b""),
        "HS512": hs512,
        "HS384": hs384,
        # An HMAC made with the server's secret but labelled RS256 (algorithm confusion).
        "RS256 label, HMAC signature": _hs256(secret, {"alg": "RS256", "typ": "JWT"}, claims),
        "RS256 label, random signature": _hand_made(
            {"alg": "RS256", "typ": "JWT"}, claims, secrets.token_bytes(256)
        ),
        "ES256 label": _hs256(secret, {"alg": "ES256", "typ": "JWT"}, claims),
        "wrong key": jwt.encode(claims, OTHER_SECRET, algorithm=JWT_ALGORITHM),
        "expired": signed(iat=now - 3600, exp=now - 60),
        "no sid": signed(sid=None),
        "no exp": signed(exp=None),
        "no iat": signed(iat=None),
        "no sub": signed(sub=None),
        "no typ": signed(typ=None),
        "typ refresh": signed(typ="refresh"),
        "typ ACCESS": signed(typ="ACCESS"),
        "unknown agent": signed(sub=str(uuid.uuid4())),
        "another organization": signed(org=str(uuid.uuid4())),
        "not yet valid": signed(nbf=now + 3600),
        "payload swapped, signature kept": ".".join(
            [head, _b64(json.dumps(tampered).encode()), signature]
        ),
        "signature cut": f"{head}.{payload}.",
        "signature of another token": f"{head}.{payload}.{signed(jti='x').split('.')[2]}",
        "trailing garbage": genuine + "x",
        "two parts": f"{head}.{payload}",
        "refresh token as access token": refresh,
        "garbage": "not-a-token",
    }


async def test_forged_and_tampered_access_tokens_are_401(base_url: str, settings: Settings) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        login = await sign_in(api, org.agent["email"])
        claims = jwt.decode(login.access, options={"verify_signature": False})
        assert set(claims) == {"sub", "org", "role", "typ", "sid", "iat", "exp", "jti"}
        # The forgeries are built right: re-signed untouched, the claims are accepted.
        resigned = jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)
        assert (await me(api, resigned)).status == 200
        assert (await me(api, _hs256(settings.secret_key, {"alg": "HS256"}, claims))).status == 200

        for name, token in forged_tokens(settings.secret_key, claims, login.refresh).items():
            assert_error(await me(api, token), 401, "unauthorized", name)
        for header in (f"Token {login.access}", f"Basic {login.access}", "Bearer", "Bearer  "):
            reply = await call("GET", f"{api}/auth/me", headers={"Authorization": header})
            assert_error(reply, 401, "unauthorized", header)
        assert (await me(api, login.access)).status == 200  # nothing above ended the sign-in


async def test_refresh_rotation_and_reuse_detection(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        first = await sign_in(api, org.agent["email"])
        bystander = await sign_in(api, org.agent["email"])  # another sign-in of the same agent
        second = await refreshed(api, first.refresh)
        third = await refreshed(api, second.refresh)
        assert len({first.refresh, second.refresh, third.refresh}) == 3
        for token in (first.access, second.access, third.access):
            assert (await me(api, token)).status == 200

        # The first refresh token was rotated away: someone replaying it ends the sign-in.
        reuse = await call("POST", f"{api}/auth/refresh", {"refresh_token": first.refresh})
        assert_error(reuse, 401, "unauthorized", "reuse")
        newest = await call("POST", f"{api}/auth/refresh", {"refresh_token": third.refresh})
        assert_error(newest, 401, "unauthorized", "newest refresh token of the revoked family")
        for n, token in enumerate((first.access, second.access, third.access)):
            assert_error(
                await me(api, token), 401, "unauthorized", f"access token {n} of the revoked family"
            )
        # Other sign-ins of the agent are not that family.
        assert (await me(api, bystander.access)).status == 200
        assert (await me(api, (await refreshed(api, bystander.refresh)).access)).status == 200


async def test_logout_ends_the_sign_in(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await create_agent(api, org.token, "Bob")
        one = await sign_in(api, org.agent["email"])
        two = await sign_in(api, org.agent["email"])
        bobs = await sign_in(api, bob["email"])

        out = await call(
            "POST", f"{api}/auth/logout", {"refresh_token": one.refresh}, token=one.access
        )
        assert out.status == 204, out.body
        assert_error(await me(api, one.access), 401, "unauthorized", "logged-out access token")
        reply = await call("POST", f"{api}/auth/refresh", {"refresh_token": one.refresh})
        assert_error(reply, 401, "unauthorized", "logged-out refresh token")
        again = await call(
            "POST", f"{api}/auth/logout", {"refresh_token": one.refresh}, token=one.access
        )
        assert_error(again, 401, "unauthorized", "logout after logout")
        assert (await me(api, two.access)).status == 200  # only that sign-in ended

        # A stranger's refresh token in the body ends the caller's sign-in, not the stranger's.
        out = await call(
            "POST", f"{api}/auth/logout", {"refresh_token": bobs.refresh}, token=two.access
        )
        assert out.status == 204, out.body
        assert_error(
            await me(api, two.access), 401, "unauthorized", "second sign-in after its logout"
        )
        assert (await me(api, bobs.access)).body["id"] == bob["id"]
        assert (await refreshed(api, bobs.refresh)).access
        # The admin's register sign-in is still alive.
        assert (await me(api, org.token)).status == 200


async def test_deleted_agent_can_neither_log_in_refresh_nor_call(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await create_agent(api, org.token, "Bob")
        email = bob["email"]
        bobs = await sign_in(api, email)
        spare = await sign_in(api, email)
        assert (await me(api, bobs.access)).status == 200

        deleted = await call("DELETE", f"{api}/agents/{bob['id']}", token=org.token)
        assert deleted.status == 204, deleted.body
        login = await call("POST", f"{api}/auth/login", {"email": email, "password": PASSWORD})
        assert_error(login, 401, "invalid_credentials", "login")
        reply = await call("POST", f"{api}/auth/refresh", {"refresh_token": bobs.refresh})
        assert_error(reply, 401, "unauthorized", "refresh")
        for token in (bobs.access, spare.access):
            assert_error(await me(api, token), 401, "unauthorized", "access token")
            assert_error(
                await call("GET", f"{api}/spaces", token=token), 401, "unauthorized", "spaces"
            )

        # The email is free again; the new account is not the old one's tokens' agent.
        again = await call(
            "POST",
            f"{api}/agents",
            {"email": email, "name": "Bob again", "password": PASSWORD},
            token=org.token,
        )
        assert again.status == 201 and again.body["id"] != bob["id"], again.body
        assert_error(await me(api, bobs.access), 401, "unauthorized", "old token, new agent")
        reply = await call("POST", f"{api}/auth/refresh", {"refresh_token": spare.refresh})
        assert_error(reply, 401, "unauthorized", "old refresh token, new agent")
        assert (await me(api, (await sign_in(api, email)).access)).body["id"] == again.body["id"]


async def test_password_change_ends_the_other_sign_ins(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        email = org.agent["email"]
        other = await sign_in(api, email)
        new_password = "a brand new password"
        changed = await call(
            "PATCH",
            f"{api}/auth/me",
            {"password": new_password, "current_password": PASSWORD},
            token=org.token,
        )
        assert changed.status == 200, changed.body
        # The caller's sign-in goes on, access and refresh token alike.
        assert (await me(api, org.token)).status == 200
        assert_error(
            await me(api, other.access), 401, "unauthorized", "other sign-in's access token"
        )
        reply = await call("POST", f"{api}/auth/refresh", {"refresh_token": other.refresh})
        assert_error(reply, 401, "unauthorized", "other sign-in's refresh token")
        login = await call("POST", f"{api}/auth/login", {"email": email, "password": PASSWORD})
        assert_error(login, 401, "invalid_credentials", "old password")
        assert (await me(api, (await sign_in(api, email, new_password)).access)).status == 200


async def test_admin_setting_a_password_ends_every_sign_in(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await create_agent(api, org.token, "Bob")
        email = bob["email"]
        bobs = await sign_in(api, email)
        reset = await call(
            "PATCH",
            f"{api}/agents/{bob['id']}",
            {"password": "set by the admin"},
            token=org.token,
        )
        assert reset.status == 200, reset.body
        assert_error(await me(api, bobs.access), 401, "unauthorized", "access token")
        reply = await call("POST", f"{api}/auth/refresh", {"refresh_token": bobs.refresh})
        assert_error(reply, 401, "unauthorized", "refresh token")
        assert (await me(api, org.token)).status == 200  # the admin's own sign-in is untouched
        assert (await me(api, (await sign_in(api, email, "set by the admin")).access)).status == 200
