"""Bots on the 3-master cluster (conftest.py): the bot-first step and the handover script keep to
the space's slot, and a bot's presence set too (structures.md, "Bots")."""

from tests.bots.test_bot_accounts import test_a_bot_online_is_no_agent_online_for_the_widget
from tests.bots.test_bot_conversation import (
    test_a_handover_and_a_claim_at_once_have_one_winner,
    test_the_bot_answers_first_and_the_visitor_asking_for_a_person_gets_one,
)

__all__ = [
    "test_a_bot_online_is_no_agent_online_for_the_widget",
    "test_a_handover_and_a_claim_at_once_have_one_winner",
    "test_the_bot_answers_first_and_the_visitor_asking_for_a_person_gets_one",
]
