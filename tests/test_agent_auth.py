"""/ws/agent authentication: query token, first-frame token, and every way to be refused (4001)."""

from __future__ import annotations

import json
import time
import warnings

import jwt
import jwt.warnings
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from chat.auth.tokens import JWT_ALGORITHM
from chat.config import Settings
from tests.helpers.chat import make_org


async def _closed_with(url: str, first: str | None = None) -> int:
    async with open_websocket_url(url) as ws:
        if first is not None:
            await ws.send_message(first)
        try:
            with trio.fail_after(15):
                while True:
                    await ws.get_message()
        except ConnectionClosed as closed:
            assert closed.reason is not None
            return int(closed.reason.code)


async def test_token_in_first_frame_is_accepted(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with open_websocket_url(base_url.replace("http", "ws") + "/ws/agent") as ws:
            await ws.send_message(json.dumps({"type": "auth", "token": org.token}))
            assert '"welcome"' in await ws.get_message()


async def test_bad_tokens_close_with_4001(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        ws = base_url.replace("http", "ws") + "/ws/agent"
        claims = jwt.decode(org.token, options={"verify_signature": False})
        expired = jwt.encode(
            {**claims, "exp": int(time.time()) - 10}, settings.secret_key, algorithm=JWT_ALGORITHM
        )
        wrong_key = jwt.encode(
            claims, "another-secret-key-0123456789abcdef", algorithm=JWT_ALGORITHM
        )
        unsigned = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
        with warnings.catch_warnings():  # the short key is the point: HS512 is not accepted
            warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
            other_alg = jwt.encode(claims, settings.secret_key, algorithm="HS512")
        for token in ("garbage", expired, wrong_key, unsigned, other_alg):
            assert await _closed_with(f"{ws}?token={token}") == 4001, token
        assert await _closed_with(ws, '{"type":"auth","token":"garbage"}') == 4001
        assert await _closed_with(ws, '{"type":"ping"}') == 4001


async def test_no_auth_frame_in_time_closes_with_4001(base_url: str) -> None:
    with trio.fail_after(30):
        ws = base_url.replace("http", "ws") + "/ws/agent"
        assert await _closed_with(ws) == 4001
