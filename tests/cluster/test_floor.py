"""The floor view on the 3-master cluster (conftest.py; structures.md, "The floor view"): the
scripted shift checked exactly, the hour's earlier answers, and a second space (on another
slot, most likely another master) joining and leaving the floor while it is watched. The
snapshot is one script on each space's slot, and the floor follows through the cluster reader."""

from tests.actors.test_floor import (
    test_spaces_and_agents_added_while_watching,
    test_the_floor_follows_a_scripted_shift,
    test_the_hours_earlier_answers_come_from_the_projected_log,
)

__all__ = [
    "test_spaces_and_agents_added_while_watching",
    "test_the_floor_follows_a_scripted_shift",
    "test_the_hours_earlier_answers_come_from_the_projected_log",
]
