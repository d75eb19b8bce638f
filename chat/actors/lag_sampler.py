"""The lag sampler: the projector's lag over every space, read every
`projector_lag_sample_seconds` (1 s) into the process's gauges (chat_projector_lag_entries,
chat_projector_lag_seconds, and chat_projector_spaces: the spaces the sample covered); and every
MEMORY_SAMPLE_SECONDS Valkey's memory and its limit (chat_valkey_used_memory_bytes,
chat_valkey_maxmemory_bytes, per server; chat/streams/memory.py).

A scrape reads the gauges; this loop is what asks Valkey: a Lua script per 250 spaces
(chat/streams/lag.py; ~12 ms for 1,000 spaces, most of it Valkey's). Runs beside the projector,
over the spaces it follows.

Crash policy: a Redis error is logged at debug and the next sample tries again (the gauges keep
the last sample; `chat_loop_failing_seconds{loop="projector"}` tells of an outage). Cancellation
ends it. Anything else propagates to the supervisor.
"""

from __future__ import annotations

import logging

import trio

from chat.actors.projector import ProjectorState
from chat.streams.errors import StreamLogError
from chat.streams.lag import total_lag
from chat.streams.log import StreamLog
from chat.streams.memory import memory_by_node

logger = logging.getLogger(__name__)

# With many spaces a sample takes longer (~15 ms per 1,000): the pause after one is at least this
# many times its duration, so sampling keeps Valkey busy at most a tenth of the time.
SAMPLE_DUTY_DIVISOR = 10
SAMPLE_DEADLINE_SECONDS = 5.0
# Memory moves slowly (the resume window is an hour): a sample every 15 s is plenty for an alert
# that fires after minutes, and costs an INFO per server.
MEMORY_SAMPLE_SECONDS = 15.0


async def run_lag_sampler(
    stream_log: StreamLog,
    state: ProjectorState,
    interval: float,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Sample the lag of `state.spaces` every `interval` seconds (a second: a dashboard or an
    alert needs no finer; each sample costs Valkey an XINFO GROUPS per space); never returns
    unless cancelled."""
    task_status.started()
    next_memory = 0.0
    while True:
        started = trio.current_time()
        if started >= next_memory:
            await _sample_memory(stream_log, state)
            next_memory = started + MEMORY_SAMPLE_SECONDS
        try:
            with trio.fail_after(SAMPLE_DEADLINE_SECONDS):
                spaces = list(state.spaces)
                lag = await total_lag(stream_log, spaces)
        except (StreamLogError, OSError, trio.TooSlowError) as exc:
            logger.debug("lag sample failed: %r", exc)
        else:
            state.meter.lag_entries.set(lag.entries)
            state.meter.lag_seconds.set(lag.seconds)
            # Set with the lag, so a reader that sees spaces sees their lag (the bench waits
            # for spaces before it trusts a 0).
            state.meter.spaces.set(len(spaces))
        took = trio.current_time() - started
        await trio.sleep(max(interval, took * SAMPLE_DUTY_DIVISOR))


async def _sample_memory(stream_log: StreamLog, state: ProjectorState) -> None:
    try:
        with trio.fail_after(SAMPLE_DEADLINE_SECONDS):
            nodes = await memory_by_node(stream_log.redis)
    except (StreamLogError, OSError, trio.TooSlowError) as exc:
        logger.debug("memory sample failed: %r", exc)
        return
    for node in nodes:
        state.meter.valkey_used_memory.labels(node.node).set(node.used)
        state.meter.valkey_maxmemory.labels(node.node).set(node.limit)
