"""The contract's delivery properties (tests/test_delivery.py: durable ack under kill -9, one
order, gapless resume, many nodes, one winner) against a real 3-master Valkey Cluster: the same
test bodies, run here with this folder's `embedded` fixture (conftest.py)."""

from tests.test_delivery import (
    test_acked_messages_survive_kill_9,
    test_concurrent_claims_have_one_winner,
    test_gapless_resume_for_visitor_and_agent,
    test_many_nodes_converse_and_survive_a_node,
    test_one_order_for_every_participant,
    test_visitor_resume_after_a_long_gap_misses_nothing,
)

__all__ = [
    "test_acked_messages_survive_kill_9",
    "test_concurrent_claims_have_one_winner",
    "test_gapless_resume_for_visitor_and_agent",
    "test_many_nodes_converse_and_survive_a_node",
    "test_one_order_for_every_participant",
    "test_visitor_resume_after_a_long_gap_misses_nothing",
]
