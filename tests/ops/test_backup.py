"""`chat backup` of a live service and `chat restore` into new embedded services: a service
started on the restored data knows the accounts, the spaces, the visitors (their session tokens
still valid) and their conversations, and nothing appended after the backup."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from chat.config import Settings
from chat.embedded.services import services_down
from chat.server import serve
from tests.conftest import VISITOR_BUDGETS_OFF
from tests.helpers.chat import PASSWORD, make_org, widget
from tests.helpers.db import wait_for_messages
from tests.helpers.http import call
from tests.helpers.ops import chat

# It starts and stops embedded services of its own.
pytestmark = pytest.mark.serial


async def test_a_restored_backup_serves_the_same_visitors_and_conversations(
    base_url: str, settings: Settings, tmp_path: Path
) -> None:
    copy, restored = tmp_path / "backup", tmp_path / "restored"
    with trio.fail_after(180):
        org = await make_org(base_url)
        async with widget(org) as (visitor, welcome):
            before = await visitor.say("before the backup")
        await wait_for_messages(settings.database_url, before["thread_id"], 1)

        done = await chat(settings, "backup", str(copy))
        assert done.code == 0 and "valkey.rdb" in done.out, done
        again = await chat(settings, "backup", str(copy))
        assert again.code == 2 and "not empty" in again.err

        async with widget(org, session=welcome["session"]) as (visitor, _):
            after = await visitor.say("after the backup")

        done = await chat(settings, "restore", str(copy), "--data-dir", str(restored))
        assert done.code == 0, done
        try:
            urls = dict(
                line.split("=", 1)
                for line in (await chat(settings, "services", "up", "--data-dir", str(restored)))
                .out.strip()
                .splitlines()
            )
            copied = Settings(
                redis_url=urls["REDIS_URL"],
                database_url=urls["DATABASE_URL"],
                secret_key=settings.secret_key,
                key_prefix=settings.key_prefix,
                **VISITOR_BUDGETS_OFF,
            )
            async with trio.open_nursery() as nursery:
                [base] = await nursery.start(serve, copied, "127.0.0.1", 0)
                login = await call(
                    "POST",
                    f"{base}/api/v1/auth/login",
                    {"email": org.agent["email"], "password": PASSWORD},
                )
                assert login.status == 200, login.body
                restored_org = org.__class__(base, login.body["access_token"], org.agent, org.space)
                async with widget(restored_org, session=welcome["session"]) as (_, back):
                    assert back["visitor"]["id"] == welcome["visitor"]["id"]
                    assert back["thread"]["id"] == before["thread_id"]
                    ids = [m["id"] for m in back["history"]]
                    assert before["id"] in ids and after["id"] not in ids
                nursery.cancel_scope.cancel()
        finally:
            await trio.to_thread.run_sync(services_down, restored)
