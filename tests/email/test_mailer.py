"""The mailer's delivery: a row waits out a mail server that is down, and mailers racing for
the outbox send each row once (chat/actors/mailer.py, chat/db/outbox.py)."""

from __future__ import annotations

import dataclasses
import logging

import pytest
import trio

from chat.actors.mailer import MailerConfig, run_mailer
from chat.config import Settings
from chat.db.pool import open_database
from chat.server import serve
from chat.services import open_services
from tests.conftest import free_port
from tests.email.conftest import mail_settings
from tests.email.helpers import leave_lead
from tests.helpers.chat import make_org
from tests.helpers.db import wait_for_rows
from tests.helpers.mail import smtp_sink

LEADS = 6


async def test_mail_waits_for_a_server_that_is_down(
    settings: Settings, nursery: trio.Nursery
) -> None:
    with trio.fail_after(60):
        port = free_port()  # nothing listens there yet
        binds = await nursery.start(serve, mail_settings(settings, port), "127.0.0.1", 0)
        org = await make_org(str(binds[0]))
        thread = await leave_lead(org, "lea@example.org")
        # Tried (and refused) at least twice, and still waiting.
        sql = (
            "SELECT bool_and(attempts >= 2 AND sent_at IS NULL AND failed_at IS NULL)"
            " FROM email_outbox WHERE thread_id = %s"
        )
        await wait_for_rows(settings.database_url, sql, (thread["id"],), True)
        async with smtp_sink(port) as sink:
            got = await sink.wait_for_mail(org.agent["email"])
            assert "lea@example.org" in got.message["Subject"]
            sent = "SELECT count(*) FROM email_outbox WHERE thread_id = %s AND sent_at IS NOT NULL"
            await wait_for_rows(settings.database_url, sent, (thread["id"],), 1)
            assert len(sink.received) == 1


async def test_racing_mailers_send_each_row_once(settings: Settings, base_url: str) -> None:
    """The server of `base_url` has no SMTP host: its rows wait for the two mailers here."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        for n in range(LEADS):
            await leave_lead(org, f"lead{n}@example.org")
        due = "SELECT count(*) FROM email_outbox WHERE sent_at IS NULL"
        await wait_for_rows(settings.database_url, due, (), LEADS)
        async with smtp_sink(free_port()) as sink, trio.open_nursery() as racing:
            config = MailerConfig.of(mail_settings(settings, sink.port))
            assert config is not None
            one_at_a_time = dataclasses.replace(config, batch=1)  # the two interleave
            for _ in range(2):
                db = await racing.start(_database, settings.database_url)
                racing.start_soon(run_mailer, db, one_at_a_time)
            sent = "SELECT count(*) FROM email_outbox WHERE sent_at IS NOT NULL"
            await wait_for_rows(settings.database_url, sent, (), LEADS)
            racing.cancel_scope.cancel()
        ids = [r.message["Message-ID"] for r in sink.received]
        assert len(ids) == LEADS and len(set(ids)) == LEADS, ids


async def _database(url: str, *, task_status: trio.TaskStatus[object]) -> None:
    """A pool of its own for one mailer, open until cancelled."""
    async with open_database(url, 2) as db:
        task_status.started(db)
        await trio.sleep_forever()


async def test_email_is_off_without_an_smtp_host_and_its_password_is_never_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with trio.fail_after(30):
        async with open_services(settings):
            pass
        off = [r for r in caplog.records if "email is off" in r.getMessage()]
        assert len(off) == 1, caplog.text
        caplog.clear()
        secret = "hunter2-smtp-password"
        with_mail = Settings.model_validate(
            {**mail_settings(settings, free_port()).model_dump(), "smtp_password": secret}
        )
        assert secret not in repr(with_mail)
        async with open_services(with_mail):
            pass
        assert "mailer: sending through" in caplog.text
        assert "email is off" not in caplog.text
        assert secret not in caplog.text
