"""A projector batch fits well inside the statement timeout."""

from __future__ import annotations

import logging
import uuid

import trio

from chat.config import Settings
from chat.db.pool import open_database
from chat.db.projection import Batch
from chat.events import LogEntry, MessagePosted

FULL_BATCH = 500  # Settings.projector_batch's default
# A tenth of the default statement timeout: a full batch must pass under it with room to spare.
TIGHT_STATEMENT_TIMEOUT = 0.5

logger = logging.getLogger(__name__)


async def test_a_full_batch_writes_under_a_tenth_of_the_statement_timeout(
    settings: Settings,
) -> None:
    assert settings.projector_batch == FULL_BATCH
    assert settings.db_statement_timeout_seconds >= 10 * TIGHT_STATEMENT_TIMEOUT
    space_id, thread_id = str(uuid.uuid4()), str(uuid.uuid4())
    batch = Batch()
    for n in range(FULL_BATCH):
        event = MessagePosted(
            thread_id=thread_id,
            sender_type="visitor",
            sender_id="v",
            sender_name="V",
            content="x" * 200,
            client_id=f"c{n}",
        )
        batch.add(space_id, LogEntry(f"{1_700_000_000_000 + n}-0", event))
    with trio.fail_after(30):
        async with open_database(
            settings.database_url, 1, statement_timeout=TIGHT_STATEMENT_TIMEOUT
        ) as db:
            started = trio.current_time()
            await db.run(batch.write)
            logger.warning("a batch of %d took %.3f s", FULL_BATCH, trio.current_time() - started)
            count = await db.run(lambda c: c.execute("SELECT count(*) FROM messages").fetchone())
    assert count == (FULL_BATCH,)
