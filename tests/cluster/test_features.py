"""What the issue found broken on a cluster, each shown by an existing test run against the
3-master cluster (conftest.py): throttling (it failed open on MOVED), the projector (kill
mid-batch, dead letters), the router's group and the address budgets' scripts; and a rating,
whose script wakes the space's readers like every append (chat/streams/lua_wake.py). Tests whose
module overrides a fixture are imported with it, one module each (test_presence.py, ...)."""

from tests.actors.test_projector import (
    test_an_entry_postgres_refuses_is_set_aside_and_the_rest_projected,
    test_projector_killed_mid_batch_loses_and_doubles_nothing,
)
from tests.http.test_throttle import (
    test_limiter_burst_then_refill,
    test_login_limit_holds_across_two_servers_sharing_redis,
    test_request_budget_per_agent_then_per_address,
    test_sixth_login_for_one_email_is_refused_even_with_the_right_password,
)
from tests.http.test_visitor_budgets import (
    test_sockets_per_address_are_capped_and_store_nothing,
    test_squatting_from_one_address_leaves_a_visitor_elsewhere_able_to_chat,
)
from tests.ratings.test_ratings import test_a_visitor_rates_their_closed_conversation_once
from tests.routing.test_strategies import test_round_robin_spreads_100_conversations_over_4_agents

__all__ = [
    "test_an_entry_postgres_refuses_is_set_aside_and_the_rest_projected",
    "test_limiter_burst_then_refill",
    "test_login_limit_holds_across_two_servers_sharing_redis",
    "test_a_visitor_rates_their_closed_conversation_once",
    "test_projector_killed_mid_batch_loses_and_doubles_nothing",
    "test_request_budget_per_agent_then_per_address",
    "test_round_robin_spreads_100_conversations_over_4_agents",
    "test_sixth_login_for_one_email_is_refused_even_with_the_right_password",
    "test_sockets_per_address_are_capped_and_store_nothing",
    "test_squatting_from_one_address_leaves_a_visitor_elsewhere_able_to_chat",
]
