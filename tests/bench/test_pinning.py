"""`--pin SERVICE:LOAD` (issue 19): CPU lists parsed, bad ones refused with a clear message."""

from __future__ import annotations

import pytest

from bench.cli import _pinning
from bench.service import parse_cpus


def test_cpu_lists() -> None:
    assert parse_cpus("0") == {0}
    assert parse_cpus("0,2") == {0, 2}
    assert parse_cpus("1-3") == {1, 2, 3}
    assert parse_cpus("0, 2-3") == {0, 2, 3}


def test_pinning_pairs_and_refusals() -> None:
    assert _pinning(None) == (None, None)
    assert _pinning("1:0") == ({1}, {0})
    assert _pinning("2-3:0-1") == ({2, 3}, {0, 1})
    for bad in ("1", "a:0", "1:", ":0"):
        with pytest.raises(SystemExit, match="--pin wants SERVICE:LOAD"):
            _pinning(bad)
