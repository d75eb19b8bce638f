"""Rotating SECRET_KEY with a grace period: while the previous key is configured, a visitor's
old session token keeps their identity and conversation and is exchanged for one under the new
key, and an agent's access token from before still works; after it, only new tokens do."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import trio

from chat.auth.totp import open_secret
from chat.config import Settings, env_settings
from chat.server import serve
from tests.helpers.api import assert_error
from tests.helpers.chat import Org, make_org, widget
from tests.helpers.db import query
from tests.helpers.http import call
from tests.helpers.totp import STEP_SECONDS, totp
from tests.http.test_two_factor import _challenge, _enrol, _register, _second_factor

NEW_KEY = "n" * 48


async def _serve(nursery: trio.Nursery, settings: Settings, node: str) -> str:
    [base] = await nursery.start(
        serve, settings.model_copy(update={"node_id": node}), "127.0.0.1", 0
    )
    return str(base)


async def test_old_tokens_verify_during_the_grace_period_and_are_reissued(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(90):
        org = await make_org(base_url)
        async with widget(org) as (visitor, before):
            ack = await visitor.say("before the rotation")
        rotated = settings.model_copy(
            update={"secret_key": NEW_KEY, "previous_secret_keys": settings.secret_key}
        )
        after_grace = settings.model_copy(update={"secret_key": NEW_KEY})
        async with trio.open_nursery() as nursery:
            base = await _serve(nursery, rotated, "rotated")
            moved = Org(base, org.token, org.agent, org.space)
            async with widget(moved, session=before["session"]) as (_, welcome):
                assert welcome["visitor"]["id"] == before["visitor"]["id"]
                assert welcome["thread"]["id"] == ack["thread_id"]
                assert ack["id"] in [m["id"] for m in welcome["history"]]
                assert welcome["session"] != before["session"]  # re-signed with the new key
            me = await call("GET", f"{base}/api/v1/auth/me", token=org.token)
            assert me.status == 200, me.body

            later = await _serve(nursery, after_grace, "after-grace")
            moved = Org(later, org.token, org.agent, org.space)
            async with widget(moved, session=welcome["session"]) as (_, kept):
                assert kept["visitor"]["id"] == before["visitor"]["id"]
            async with widget(moved, session=before["session"]) as (_, lost):
                assert lost["visitor"]["id"] != before["visitor"]["id"]  # the grace is over
            assert (await call("GET", f"{later}/api/v1/auth/me", token=org.token)).status == 401
            nursery.cancel_scope.cancel()


async def test_rotate_secret_keeps_the_old_key_until_the_grace_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SECRET_KEY", "CHAT_PREVIOUS_SECRET_KEYS"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret_key").write_text("o" * 64)

    async def rotate(*args: str) -> str:
        done = await trio.run_process(
            [sys.executable, "-m", "chat.cli", "rotate-secret", "--data-dir", str(data), *args],
            env=dict(os.environ),
            capture_stdout=True,
            check=True,
        )
        return done.stdout.decode()

    def keys() -> tuple[str, ...]:
        return env_settings(
            redis_url="redis://x", database_url="postgresql://x", data_dir=data
        ).verifying_keys

    assert "wrote a new key" in await rotate()
    first = (data / "secret_key").read_text()
    assert keys() == (first, "o" * 64) and first != "o" * 64
    await rotate()
    second = (data / "secret_key").read_text()
    assert keys() == (second, first, "o" * 64)
    assert "removed" in await rotate("--end-grace")
    assert keys() == (second,)


async def test_two_factor_sign_in_survives_the_rotation(base_url: str, settings: Settings) -> None:
    """An enrolment sealed under the previous key still signs in during the grace period, and
    is sealed anew under the new key; recovery codes made before work until the grace ends."""
    with trio.fail_after(90):
        ada = await _register(base_url)
        secret, codes, _ = await _enrol(base_url, ada.access)
        rotated = settings.model_copy(
            update={"secret_key": NEW_KEY, "previous_secret_keys": settings.secret_key}
        )
        after_grace = settings.model_copy(update={"secret_key": NEW_KEY})
        async with trio.open_nursery() as nursery:
            base = await _serve(nursery, rotated, "rotated-2fa")
            sql = "SELECT last_step FROM two_factor WHERE agent_id = %s"
            [(spent,)] = await trio.to_thread.run_sync(
                query, settings.database_url, sql, (ada.agent["id"],)
            )
            # The step after the one the confirmation spent: now's or the next (within ±1).
            code = totp(secret, at=(spent + 1) * STEP_SECONDS)
            challenge = await _challenge(base, ada.email)
            signed_in = await _second_factor(base, challenge, code=code)
            assert signed_in.status == 200, signed_in.body
            sql = "SELECT secret_sealed FROM two_factor WHERE agent_id = %s"
            [(sealed,)] = await trio.to_thread.run_sync(
                query, settings.database_url, sql, (ada.agent["id"],)
            )
            assert open_secret(NEW_KEY, ada.agent["id"], bytes(sealed)) == secret
            challenge = await _challenge(base, ada.email)
            kept = await _second_factor(base, challenge, recovery_code=codes[0])
            assert kept.status == 200, kept.body

            later = await _serve(nursery, after_grace, "after-grace-2fa")
            challenge = await _challenge(later, ada.email)
            lost = await _second_factor(later, challenge, recovery_code=codes[1])
            assert_error(lost, 401, "invalid_two_factor_code")
            nursery.cancel_scope.cancel()
