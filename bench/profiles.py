"""Sizes of each scenario per profile. `quick` is the smoke test run by `make test` (seconds,
tiny loads); `standard` is `make bench`; `full` reaches the issue's targets' sizes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Conversation:
    spaces: int
    agents_per_space: int
    visitors: int
    ladder: tuple[int, ...]  # offered visitor msgs/s, summed over all visitors
    step_seconds: float
    reply_share: float = 0.1  # share of visitor messages an agent answers


@dataclass(frozen=True)
class Idle:
    sockets: int
    idle_seconds: float  # the CPU-at-idle window, heartbeats included


@dataclass(frozen=True)
class Storm:
    visitors: int
    spaces: int = 4
    # Each restart repeat waits out the server's drain (~5 s) and start (~2 s): the quick
    # profile does one to stay within its time. None: the run's repeats.
    restart_repeats: int | None = None


@dataclass(frozen=True)
class Projector:
    backlog: int  # messages appended while no projector runs
    visitors: int = 200
    spaces: int = 4
    steady_msgs_per_s: int = 500  # the lag-under-load step's offered visitor load
    steady_seconds: float = 5.0


@dataclass(frozen=True)
class Ceilings:
    echo_connections: int
    seconds: float
    xadd_pipeline: int = 100
    echo_window: int = 8  # echo messages each connection keeps in flight
    xadd_connections: int = 4  # concurrent pipelining connections (summed over load processes)


@dataclass(frozen=True)
class Routing:
    conversations: int  # opened at once per repeat, spread over the spaces
    agents: int  # every one in the spaces' default group, online in every space
    capacity: int  # each agent's max_concurrent_chats: agents * capacity >= conversations
    spaces: int = 2
    strategy: str = "least_loaded"  # or round_robin


@dataclass(frozen=True)
class Profile:
    name: str
    conversation: Conversation
    idle: Idle
    storm: Storm
    projector: Projector
    ceilings: Ceilings
    routing: Routing
    repeats: int = 3
    scenarios: tuple[str, ...] = field(
        default=(
            "ceilings",
            "conversation",
            "idle",
            "storm",
            "projector",
            "routing",
            "webhooks",
            "memory",
        )
    )


PROFILES = {
    "quick": Profile(
        "quick",
        Conversation(spaces=2, agents_per_space=2, visitors=20, ladder=(40, 80), step_seconds=2),
        Idle(sockets=100, idle_seconds=2),
        Storm(visitors=40, spaces=2),
        Projector(backlog=1000, visitors=20, steady_msgs_per_s=100, steady_seconds=1),
        Ceilings(echo_connections=8, seconds=1.5),
        Routing(conversations=100, agents=4, capacity=25),
        # Not `memory` (about two minutes even compressed 3,600 times): `make test` runs this
        # profile as a smoke test within 10 minutes on a busy 2-core machine. Run it with
        # `--scenarios memory`.
        scenarios=("ceilings", "conversation", "idle", "storm", "projector", "routing", "webhooks"),
    ),
    "standard": Profile(
        "standard",
        Conversation(
            spaces=10,
            agents_per_space=2,
            visitors=500,
            ladder=(250, 500, 750, 1000, 1500, 2000, 2500, 3000),
            step_seconds=10,
        ),
        Idle(sockets=2000, idle_seconds=10),
        Storm(visitors=1000),
        Projector(backlog=30000),
        Ceilings(echo_connections=50, seconds=5),
        Routing(conversations=500, agents=10, capacity=50, spaces=4),
    ),
    "full": Profile(
        "full",
        Conversation(
            spaces=20,
            agents_per_space=2,
            visitors=1000,
            ladder=(1000, 1500, 2000, 2500, 3000, 3500, 4000),
            step_seconds=20,
        ),
        Idle(sockets=10000, idle_seconds=30),
        Storm(visitors=2000),
        Projector(backlog=100000),
        Ceilings(echo_connections=100, seconds=10),
        Routing(conversations=2000, agents=20, capacity=100, spaces=10),
    ),
}
