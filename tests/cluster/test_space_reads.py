"""Reads over many spaces, or several keys of one, on the 3-master cluster: the pipelined
reclaim over every space (coredis sends each master its spaces' XAUTOCLAIMs) and the widgets'
joining reads (one script per space of a batch, on its space's master). The same tests as
tests.streams'."""

from tests.streams.test_reclaim import (
    test_a_space_without_its_group_fails_the_pass,
    test_every_space_in_one_pass_and_each_capped_at_count,
)
from tests.streams.test_visitor_join import (
    test_a_new_visitor_then_a_stored_verified_one_with_agents_online,
    test_concurrent_joins_over_spaces_each_get_their_own_in_fewer_calls,
)

__all__ = [
    "test_a_new_visitor_then_a_stored_verified_one_with_agents_online",
    "test_a_space_without_its_group_fails_the_pass",
    "test_concurrent_joins_over_spaces_each_get_their_own_in_fewer_calls",
    "test_every_space_in_one_pass_and_each_capped_at_count",
]
