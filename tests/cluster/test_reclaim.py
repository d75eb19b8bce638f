"""Reclaiming for every space in one pipelined pass on the 3-master cluster (coredis sends each
master its spaces' XAUTOCLAIMs): the same tests as tests.streams.test_reclaim."""

from tests.streams.test_reclaim import (
    test_a_space_without_its_group_fails_the_pass,
    test_every_space_in_one_pass_and_each_capped_at_count,
)

__all__ = [
    "test_a_space_without_its_group_fails_the_pass",
    "test_every_space_in_one_pass_and_each_capped_at_count",
]
