"""Valkey faults under a steady widget load: killed and restarted, stopped and continued. Every
acked message reaches PostgreSQL exactly once; clients hear `unavailable`, resend, and go on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import trio

from tests.helpers.faults import STORAGE_FAULT_CODES, UNAVAILABLE, Row, Stage, survive

pytestmark = pytest.mark.faults

VALKEY_DOWN_SECONDS = 3.0
VALKEY_STOPPED_SECONDS = 10.0


async def test_kill_9_valkey_and_restart(stage: Stage, record_row: Callable[[Row], None]) -> None:
    with trio.fail_after(120):
        server = await stage.serve("a")

        async def fault() -> None:
            await stage.kill_valkey()
            await trio.sleep(VALKEY_DOWN_SECONDS)  # the outage itself
            await stage.start_valkey()

        name = "kill -9 Valkey, restart after 3 s"
        await survive(
            stage, [server.base], name, fault, STORAGE_FAULT_CODES, record_row, felt=UNAVAILABLE
        )


async def test_sigstop_valkey_for_10_s(stage: Stage, record_row: Callable[[Row], None]) -> None:
    with trio.fail_after(120):
        server = await stage.serve("a")

        async def fault() -> None:
            with stage.valkey_stopped():
                await trio.sleep(VALKEY_STOPPED_SECONDS)  # the outage itself

        name = "SIGSTOP Valkey for 10 s, then SIGCONT"
        await survive(
            stage, [server.base], name, fault, STORAGE_FAULT_CODES, record_row, felt=UNAVAILABLE
        )
