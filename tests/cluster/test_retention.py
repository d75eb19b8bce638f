"""Memory that matches the resume window, on the 3-master cluster: the dedupe window, the trim of
quiet spaces and open threads (each a script or command on one space's slot; a cluster has no
wake streams: its reader is woken by the appends' shard channels),
the sweep over spaces of every slot, and a deleted space's keys removed from its slot's master
(SCAN on every master, DEL within the slot)."""

from tests.actors.test_retention import (
    test_a_deleted_space_keeps_its_keys_until_projected,
    test_a_deleted_space_leaves_no_keys,
    test_dedupe_records_and_the_visitor_hash_expire_with_short_windows,
    test_the_sweep_trims_a_quiet_space,
)
from tests.streams.test_dedupe import (
    test_a_record_outlives_its_send_by_the_window_and_expires_within_two,
    test_a_resend_within_the_window_gets_the_first_ack_and_is_stored_once,
    test_the_generation_before_and_the_older_versions_hash_are_read,
)
from tests.streams.test_memory import test_every_server_reports_its_memory_and_limit
from tests.streams.test_retention import (
    test_a_quiet_space_and_its_open_threads_are_trimmed_once_projected,
    test_entries_not_projected_are_kept,
)

__all__ = [
    "test_a_deleted_space_keeps_its_keys_until_projected",
    "test_a_deleted_space_leaves_no_keys",
    "test_a_quiet_space_and_its_open_threads_are_trimmed_once_projected",
    "test_a_record_outlives_its_send_by_the_window_and_expires_within_two",
    "test_a_resend_within_the_window_gets_the_first_ack_and_is_stored_once",
    "test_dedupe_records_and_the_visitor_hash_expire_with_short_windows",
    "test_entries_not_projected_are_kept",
    "test_every_server_reports_its_memory_and_limit",
    "test_the_generation_before_and_the_older_versions_hash_are_read",
    "test_the_sweep_trims_a_quiet_space",
]
