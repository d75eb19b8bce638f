"""`python -m bench.idle_floor` (issue 19): the bare trio server answers every socket's pings,
and the tool reports its CPU over the window."""

from __future__ import annotations

import re
import subprocess
import sys


def test_the_floor_is_measured_over_answered_pings() -> None:
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.idle_floor", "--sockets", "40", "--ping-seconds", "0.1"]
        + ["--window", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = re.search(r"server CPU ([\d.]+)% of a core, (\d+) us per ping", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) > 0 and int(found.group(2)) > 0
