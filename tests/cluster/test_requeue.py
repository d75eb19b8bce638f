"""The router on a cluster: a gone agent's conversation is requeued and reassigned. The same tests
as tests.routing.test_requeue, with its fixtures, against the cluster."""

from tests.routing.test_requeue import (
    settings,
    test_a_gone_agents_unanswered_conversation_is_requeued_and_reassigned,
    test_an_agent_who_answered_keeps_the_conversation,
)

__all__ = [
    "settings",
    "test_a_gone_agents_unanswered_conversation_is_requeued_and_reassigned",
    "test_an_agent_who_answered_keeps_the_conversation",
]
