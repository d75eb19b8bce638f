"""Group commit of the log's appends: the script calls of one process that arrive while a batch
is in flight travel together in the next pipeline on one connection (structures.md, "Atomicity").
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, cast

import coredis.exceptions
import trio
from coredis.commands.script import Script

from chat.config import AckDurability
from chat.errors import ChatError, UnavailableError
from chat.streams.caller_batches import CallerBatches, Pending
from chat.streams.client import Redis, is_cluster

# How long WAITAOF may wait for the fsync before the append is reported as failed.
WAITAOF_TIMEOUT_MS = 2000
# How long WAIT may wait for a replica ("replicated" acks) before the append is reported failed.
WAIT_TIMEOUT_MS = 2000
# An append is answered within this long of its submit, queued time included (above WAITAOF's
# 2 s and coredis's 5 s connect timeout would only repeat them). A batch's deadline is the
# earliest of its callers'; the leader shields the batch, since the other callers' results ride
# on it, and this bounds how long a cancelled leader may linger.
BATCH_TIMEOUT_SECONDS = 5.0
# Appends per pipeline. A batch this big costs Valkey a few ms of script time; later callers wait
# for the next batch rather than make this one's replies late.
MAX_BATCH = 100


@dataclass(frozen=True, slots=True)
class Append:
    """One caller's script call."""

    script: Script[str]
    keys: list[str]
    args: list[str]


class GroupCommit:
    """Group commit: the appends of this process that arrive while a batch is in flight travel
    together in the next one, one pipeline (no MULTI) on one connection; the queue and its
    first-caller-leads hand-over are chat/streams/caller_batches.py.

    Every caller gets its own reply or its own error (a script's refusal is a reply, decoded by
    its caller); an error of the whole batch (a lost connection, no fsync) reaches each of its
    callers.
    """

    def __init__(self, redis: Redis, durability: AckDurability) -> None:
        self._redis = redis
        self._fsync = durability == "fsync"
        self._replicated = durability == "replicated"
        self._batches = CallerBatches(
            self._send, max_batch=MAX_BATCH, timeout_seconds=BATCH_TIMEOUT_SECONDS
        )

    async def submit(self, item: Append) -> Any:
        """Run `item`'s script in the next batch; its reply, or raise its error.

        Errors: the script's own (a refusal is a reply, not an error), or the batch's, which
        every caller of that batch gets: `TimeoutError` past the client's command timeout,
        `coredis.exceptions.ConnectionError` for a lost connection, `UnavailableError` past
        BATCH_TIMEOUT_SECONDS, `ChatError` when the fsync was not confirmed in time.

        Cancellation (CallerBatches.submit): once its batch is sent, the script runs on the
        server whatever happens to the caller. So after a cancel, as after a batch error, the
        append may or may not be stored: the `do_*` callers retry with the same client_id,
        which stores it once.
        """
        return await self._batches.submit(item)

    async def _send(self, batch: list[Pending[Append]]) -> None:
        if self._replicated or (self._fsync and is_cluster(self._redis)):
            await self._send_each_synced(batch)
            return
        if len(batch) == 1 and not self._fsync:
            # Alone and no fsync to wait for: a plain call (which reloads a flushed script).
            item = batch[0]
            item.finish(await item.call.script(keys=item.call.keys, args=item.call.args))
            return
        pending = batch
        for attempt in range(2):
            async with self._redis.pipeline(transaction=False, raise_on_error=False) as pipe:
                for item in pending:
                    # evalsha, not script(client=pipe): that adds a SCRIPT EXISTS round trip to
                    # every pipeline. A flushed script cache (a restarted Valkey) is handled below.
                    pipe.evalsha(item.call.script.sha, keys=item.call.keys, args=item.call.args)
                if self._fsync:
                    pipe.waitaof(1, 0, WAITAOF_TIMEOUT_MS)
            results = list(pipe.results or ())
            if self._fsync:
                synced = results.pop()
                if isinstance(synced, BaseException):
                    raise synced
                if synced[0] < 1:
                    raise ChatError("the log could not confirm an fsync in time")
            missing = []
            for item, result in zip(pending, results, strict=True):
                if isinstance(result, coredis.exceptions.NoScriptError) and attempt == 0:
                    missing.append(item)  # it did not run: load the scripts and send it again
                elif isinstance(result, BaseException):
                    item.finish(error=result)
                else:
                    item.finish(result)
            if not missing:
                return
            for script in {item.call.script for item in missing}:
                await self._redis.script_load(script.script)
            pending = missing

    async def _send_each_synced(self, batch: list[Pending[Append]]) -> None:
        """fsync on a cluster, and "replicated" anywhere: WAITAOF and WAIT name no key, so a
        cluster pipeline cannot route them to the node that ran the scripts. Each script runs on
        its own, side by side, followed on the same connection by WAITAOF 1 0 (fsync) or WAIT 1
        (replicated; coredis' ensure_persistence / ensure_replication), so each caller's reply
        means its own node fsynced it, or one of that node's replicas holds it."""

        def guarantee() -> AbstractContextManager[object]:
            if self._replicated:
                return cast(
                    AbstractContextManager[object],
                    self._redis.ensure_replication(1, WAIT_TIMEOUT_MS),
                )
            return cast(
                AbstractContextManager[object],
                self._redis.ensure_persistence(1, 0, WAITAOF_TIMEOUT_MS),
            )

        async def one(item: Pending[Append]) -> None:
            call = item.call
            try:
                with guarantee():
                    item.finish(await call.script(keys=call.keys, args=call.args))
            except coredis.exceptions.PersistenceError:
                item.finish(error=ChatError("the log could not confirm an fsync in time"))
            except coredis.exceptions.ReplicationError:
                # Stored on the master but held by no replica yet (none is up, say, after a
                # failover): not acked. A retry under the same client_id is safe.
                item.finish(error=UnavailableError("no replica confirmed the append in time"))
            except Exception as exc:  # noqa: BLE001 - this caller's error, handed to it
                item.finish(error=exc)

        async with trio.open_nursery() as nursery:
            for item in batch:
                nursery.start_soon(one, item)
