"""A server whose mail goes to a real SMTP sink (tests/helpers/mail.py), with the inbound route
on; mailer timings shortened so the tests wait fractions of a second, not the defaults."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from chat.config import Settings
from chat.server import serve
from tests.conftest import free_port
from tests.helpers.mail import Sink, smtp_sink

INBOUND_TOKEN = "inbound-token-0123456789"
REPLY_DOMAIN = "reply.shop.example.com"


def mail_settings(settings: Settings, smtp_port: int) -> Settings:
    return Settings.model_validate(
        {
            **settings.model_dump(),
            "smtp_password": "",  # SecretStr dumps masked; none is used here
            "email_reply_secret": "",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_security": "none",
            "email_from": "chat@shop.example.com",
            "email_reply_domain": REPLY_DOMAIN,
            "inbound_email_token": INBOUND_TOKEN,
            "public_url": "https://chat.example.com",
            "mailer_poll_seconds": 0.1,
            "smtp_retry_seconds": 0.2,
        }
    )


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with smtp_sink(free_port()) as found:
        yield found


@pytest.fixture
async def mail_base_url(settings: Settings, sink: Sink, nursery: trio.Nursery) -> str:
    """One in-process server that mails through `sink`."""
    binds = await nursery.start(serve, mail_settings(settings, sink.port), "127.0.0.1", 0)
    return str(binds[0])
