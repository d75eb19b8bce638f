"""fsync acks on a cluster: WAITAOF on the node that ran each append. The same tests as
tests.test_durability_modes, with its fixtures, against the cluster."""

from tests.test_durability_modes import (
    settings,
    test_fsync_mode_acks_and_delivers,
)

__all__ = [
    "settings",
    "test_fsync_mode_acks_and_delivers",
]
