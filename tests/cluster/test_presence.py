"""The sweeps on a cluster: presence (a crashed process's agents) and idle expiry. The same tests
as tests.actors.test_presence_and_expiry, with its fixtures, against the cluster."""

from tests.actors.test_presence_and_expiry import (
    settings,
    test_crashed_process_agents_go_offline,
    test_idle_thread_expires_and_both_sides_hear,
    test_widget_hears_agents_come_and_go,
)

__all__ = [
    "settings",
    "test_crashed_process_agents_go_offline",
    "test_idle_thread_expires_and_both_sides_hear",
    "test_widget_hears_agents_come_and_go",
]
