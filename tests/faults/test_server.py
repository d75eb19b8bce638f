"""kill -9 of one of two `chat serve` processes sharing Valkey and PostgreSQL, under a steady
widget load. Its visitors reconnect to the survivor (session token and `last`) and resend what
was not acked; the killed process is restarted. Every acked message exactly once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio

from tests.helpers.faults import SERVER_FAULT_CODES, Row, Stage, survive

pytestmark = pytest.mark.faults

SERVER_DOWN_SECONDS = 3.0


async def test_kill_9_one_of_two_servers(stage: Stage, record_row: Callable[[Row], None]) -> None:
    with trio.fail_after(120):
        first = await stage.serve("a")
        second = await stage.serve("b")

        async def fault() -> None:
            first.kill()
            await trio.sleep(SERVER_DOWN_SECONDS)  # the survivor alone
            await first.start("a", stage.logs)

        name = "kill -9 one of two servers, restart it after 3 s"
        bases = [first.base, second.base]
        await survive(stage, bases, name, fault, SERVER_FAULT_CODES, record_row, felt="close 1006")
