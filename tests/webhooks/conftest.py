"""A server whose webhooks may call the test's receiver on 127.0.0.1, with timings shortened so
retries take fractions of a second."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import trio

from chat.config import Settings
from chat.server import serve
from tests.helpers.chat import Org, make_org
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call
from tests.helpers.load import GENEROUS_SETTINGS
from tests.helpers.webhook_receiver import Receiver, run_receiver

FAST = {
    "webhook_allow_private": True,
    "webhook_timeout_seconds": 1.0,
    "webhook_retry_base_seconds": 0.05,
    "webhook_retry_max_delay_seconds": 0.3,
    "webhook_poll_seconds": 0.1,
}


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return Settings.model_validate(
        {
            **settings.model_dump(),
            # SecretStr fields dump masked; none is used here.
            "smtp_password": "",
            "email_reply_secret": "",
            "inbound_email_token": "",
            "s3_secret_access_key": "",
            **changes,
        }
    )


@pytest.fixture
def webhook_settings(settings: Settings) -> Settings:
    return with_settings(settings, **FAST)


@pytest.fixture
async def hooks_url(webhook_settings: Settings, nursery: trio.Nursery) -> str:
    """One in-process server whose webhooks may reach loopback."""
    binds = await nursery.start(serve, webhook_settings, "127.0.0.1", 0)
    return str(binds[0])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as found:
        yield found


async def register(
    org: Org, receiver: Receiver, path: str, kinds: list[str], **extra: Any
) -> dict[str, Any]:
    """An endpoint of `org` at the receiver's `path`; the receiver learns its secret."""
    body = {"url": receiver.url(path), "kinds": kinds, **extra}
    reply = await call("POST", f"{org.base}/api/v1/webhooks", body, token=org.token)
    assert reply.status == 201, reply.body
    receiver.secrets[path] = reply.body["secret"]
    return dict(reply.body)


async def deliveries(org: Org, endpoint_id: str, **query: str) -> list[dict[str, Any]]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    reply = await call(
        "GET", f"{org.base}/api/v1/webhooks/{endpoint_id}/deliveries?{qs}", token=org.token
    )
    assert reply.status == 200, reply.body
    return list(reply.body["items"])


async def make_roomy_org(base: str) -> Org:
    """An organization whose visitors may send as fast as the tests do."""
    return await make_org(base, settings=GENEROUS_SETTINGS)


async def wait_delivered(settings: Settings, endpoint_id: str, count: int) -> None:
    """Until the endpoint's log shows `count` deliveries done (the receiver has them a moment
    before the sender writes the outcome)."""
    sql = "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = %s AND status = 'delivered'"
    await wait_for_rows(settings.database_url, sql, (endpoint_id,), count)
