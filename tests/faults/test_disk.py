"""Valkey's AOF disk full, under a steady widget load: Valkey's folder is a 2 MiB tmpfs, filled
to the last byte for a while, then freed. Valkey refuses writes (MISCONF) while it cannot write
its AOF; clients hear `unavailable` and resend; every acked message reaches PostgreSQL exactly
once. Mounting needs root (CAP_SYS_ADMIN): elsewhere the test skips, and README's Reliability
section describes the same test by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trio

from tests.helpers.faults import (
    AOF_DIRNAME,
    FILLER,
    STORAGE_FAULT_CODES,
    UNAVAILABLE,
    Row,
    Stage,
    fill,
    mount_tmpfs,
    survive,
    unmount,
)

pytestmark = pytest.mark.faults

AOF_DISK_SIZE = "2m"
VALKEY_FOLDER = "valkey"  # start_valkey's folder under the data folder (chat/embedded/valkey.py)
DISK_FULL_SECONDS = 8.0


@pytest.fixture
def aof_stage(tmp_path: Path) -> Iterator[tuple[Stage, Path]]:
    """A stage whose Valkey keeps its folder (the AOF directory inside it, and the temporary
    files Valkey renames into it, which must be on the same file system) on a small tmpfs."""
    disk = tmp_path / "services" / VALKEY_FOLDER
    refused = mount_tmpfs(disk, AOF_DISK_SIZE)
    if refused:
        pytest.skip(f"{refused}: run the manual test in README, Reliability")
    try:
        made = Stage.up(tmp_path)
        try:
            yield made, disk / AOF_DIRNAME
        finally:
            # A test that failed mid-fault leaves the disk full: free it, so Valkey can flush
            # its AOF and stop cleanly.
            (disk / AOF_DIRNAME / FILLER).unlink(missing_ok=True)
            made.down()
    finally:
        unmount(disk)


async def test_valkey_aof_disk_full(
    aof_stage: tuple[Stage, Path], record_row: Callable[[Row], None]
) -> None:
    stage, aof = aof_stage
    with trio.fail_after(120):
        server = await stage.serve("a")

        async def fault() -> None:
            filler = await trio.to_thread.run_sync(fill, aof)
            await trio.sleep(DISK_FULL_SECONDS)  # the outage itself
            filler.unlink()

        name = "Valkey's AOF disk full for 8 s, then freed"
        await survive(
            stage, [server.base], name, fault, STORAGE_FAULT_CODES, record_row, felt=UNAVAILABLE
        )
