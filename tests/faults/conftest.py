"""The fault suite's fixtures: a stage of the test's own (Valkey, PostgreSQL, servers), and the
table of what each fault cost, printed at the end of the session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.faults import Row, Stage, markdown

ROWS = pytest.StashKey[list[Row]]()


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[Stage]:
    made = Stage.up(tmp_path)
    try:
        yield made
    finally:
        made.down()


@pytest.fixture
def record_row(request: pytest.FixtureRequest) -> Callable[[Row], None]:
    """Keep a test's row for the table at the end of the session (and print it now)."""
    rows = request.config.stash.setdefault(ROWS, [])

    def record(row: Row) -> None:
        rows.append(row)
        print(markdown([row]))

    return record


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    rows = config.stash.get(ROWS, [])
    if rows:
        terminalreporter.write_sep("-", "fault suite: what each fault cost the clients")
        terminalreporter.write_line(markdown(rows))
