"""The services one process shares between its actors and its HTTP handlers, passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from chat.actors.projector import ProjectorState
from chat.actors.revocation import SessionRegistry
from chat.actors.thread import ThreadActors
from chat.config import Settings
from chat.db.pool import Database
from chat.streams.client import Redis
from chat.streams.control import ControlLog
from chat.streams.log import StreamLog
from chat.streams.reader import StreamRouter


@dataclass
class Services:
    settings: Settings
    redis: Redis
    log: StreamLog
    router: StreamRouter
    db: Database
    threads: ThreadActors
    projector: ProjectorState
    # Revocations: REST appends with `control.do_*` after committing; the control follower
    # dispatches every entry to `revocations`, where this process's sessions are registered.
    control: ControlLog
    revocations: SessionRegistry
