"""The operator's commands against the cluster: `chat tail` of every space reads one XREAD per
slot, `inspect` and `dead-letters` read one space's keys, `projector prune` every space's group."""

from tests.ops.test_dead_letters import (
    test_a_refused_message_is_listed_kept_and_replayed_once_fixed,
)
from tests.ops.test_inspect import (
    test_a_space_by_name_and_by_widget_key_shows_its_entries_and_groups,
    test_a_thread_and_its_visitor_show_state_rows_and_projection,
)
from tests.ops.test_projector import (
    test_a_stopped_process_consumers_are_pruned_and_the_live_ones_kept,
)
from tests.ops.test_tail import (
    test_tail_follows_new_entries_of_the_kinds_asked_for,
    test_tail_of_every_space_prints_readable_lines,
)

__all__ = [
    "test_a_refused_message_is_listed_kept_and_replayed_once_fixed",
    "test_a_space_by_name_and_by_widget_key_shows_its_entries_and_groups",
    "test_a_stopped_process_consumers_are_pruned_and_the_live_ones_kept",
    "test_a_thread_and_its_visitor_show_state_rows_and_projection",
    "test_tail_follows_new_entries_of_the_kinds_asked_for",
    "test_tail_of_every_space_prints_readable_lines",
]
