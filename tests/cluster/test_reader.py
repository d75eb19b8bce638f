"""The stream reader on a cluster: one loop per slot, each with its own wake stream. The same tests
as tests.streams.test_reader, with its fixtures, against the cluster."""

from tests.streams.test_reader import (
    router,
    test_subscribing_to_a_new_space_starts_from_its_last_entry,
    test_the_reader_routes_live_entries_and_skips_undecodable_ones,
    test_unsubscribe_stops_delivery_and_the_last_one_unfollows_the_space,
)

__all__ = [
    "router",
    "test_subscribing_to_a_new_space_starts_from_its_last_entry",
    "test_the_reader_routes_live_entries_and_skips_undecodable_ones",
    "test_unsubscribe_stops_delivery_and_the_last_one_unfollows_the_space",
]
