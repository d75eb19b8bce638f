"""The idle scenario's widget socket (bench/lean_widget.py) against a real service: connects to
its welcome, pings and counts the pong, answers nothing it should not, and closes with a close
handshake; a refused handshake is a connect error the scenario counts."""

from __future__ import annotations

from collections import Counter

import pytest
import trio
import trio.testing

from bench.lean_widget import LEAN_CONNECT_ERRORS, LeanWidget
from tests.helpers.chat import make_org

BENCH_HOST = "bench.example"  # bench.api.BENCH_ORIGIN's


async def test_a_lean_widget_connects_pings_and_closes(base_url: str) -> None:
    org = await make_org(base_url, allowed=[BENCH_HOST])
    with trio.fail_after(20):
        widget, welcome, took = await LeanWidget.open(org.ws_base, org.space["widget_key"])
        assert welcome["type"] == "welcome" and welcome["visitor"]["id"]
        assert took > 0
        frames: Counter[str] = Counter()
        async with trio.open_nursery() as nursery:
            # First ping at once, the next in an hour: one ping in this test.
            nursery.start_soon(widget.run, frames, trio.current_time(), 3600.0)
            await trio.testing.wait_all_tasks_blocked()  # in-process server: the pong is in
            assert widget.pings == 1 and frames == {"pong": 1}
            widget.close()
            await widget.done.wait()
        assert widget.closed and not widget.closed_by_server


async def test_a_refused_handshake_is_a_connect_error(base_url: str) -> None:
    org = await make_org(base_url)  # the bench's origin is not among its allowed domains
    with trio.fail_after(20), pytest.raises(LEAN_CONNECT_ERRORS, match="refused with HTTP 403"):
        await LeanWidget.open(org.ws_base, org.space["widget_key"])
