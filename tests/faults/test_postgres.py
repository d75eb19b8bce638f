"""PostgreSQL stopped for 30 s under a steady widget load. Messages need only the log, so the
clients keep chatting; the projector catches up once PostgreSQL is back, every acked message
exactly once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio

from tests.helpers.faults import STORAGE_FAULT_CODES, Row, Stage, survive

pytestmark = pytest.mark.faults

POSTGRES_DOWN_SECONDS = 30.0


async def test_stop_postgres_for_30_s(stage: Stage, record_row: Callable[[Row], None]) -> None:
    with trio.fail_after(150):
        server = await stage.serve("a")

        async def fault() -> None:
            await stage.stop_postgres()
            await trio.sleep(POSTGRES_DOWN_SECONDS)  # the outage itself
            await stage.start_postgres()

        name = "stop PostgreSQL for 30 s, start it"
        await survive(stage, [server.base], name, fault, STORAGE_FAULT_CODES, record_row)
