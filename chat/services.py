"""The services one process shares between its actors and its HTTP handlers, and the
supervisor that builds them: it owns the reader, the control follower, the projector, the
sweepers, the mailer and the thread actors' nursery. The composition root: actors import none
of this, each is handed only what it uses."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trio

from chat.actors.drain import DrainState
from chat.actors.floor import FloorDeps, Floors
from chat.actors.lag_sampler import run_lag_sampler
from chat.actors.mailer import MailerConfig, run_mailer
from chat.actors.projector import ProjectorState, run_projector
from chat.actors.retention import RetentionState, run_retention_sweeper
from chat.actors.revocation import SessionRegistry
from chat.actors.router import RouterState, run_router
from chat.actors.rules_bot import RulesBotState, run_rules_bot
from chat.actors.socket import SessionStats
from chat.actors.space_cache import SpaceCache
from chat.actors.sweepers import run_expiry_sweeper, run_presence_sweeper
from chat.actors.thread import ThreadActors
from chat.actors.webhook_ingest import IngestState, run_webhook_ingest
from chat.actors.webhook_sender import SenderConfig, SenderState, run_webhook_sender
from chat.commands.directory import Directory
from chat.commands.notes import NoteCommands
from chat.commands.routing import TeamRouting
from chat.commands.threads import ThreadCommands
from chat.config import Settings
from chat.db.pool import Database, open_database
from chat.db.team_cache import TeamCache
from chat.files.storage import FileStore, LocalFileStore, S3FileStore
from chat.metrics.exposition import Metrics
from chat.streams.account_copies import AccountCopies
from chat.streams.client import Redis, open_redis
from chat.streams.control import (
    ControlEntry,
    ControlLog,
    RoutingChanged,
    SpaceCreated,
    SpaceDeleted,
    SpaceUpdated,
    run_control_follower,
)
from chat.streams.floor import FloorReads
from chat.streams.health import LoopHealth
from chat.streams.log import StreamLog
from chat.streams.reader import StreamRouter, run_stream_reader
from chat.streams.retention import Retention
from chat.streams.routing import RoutingLog
from chat.streams.socket_slots import SocketSlots

logger = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    redis: Redis
    stream_log: StreamLog
    router: StreamRouter
    db: Database
    threads: ThreadActors
    projector: ProjectorState
    # Revocations: REST appends with `control.do_*` after committing; the control follower
    # dispatches every entry to `revocations`, where this process's sessions are registered.
    control: ControlLog
    revocations: SessionRegistry
    # Widget sockets per client address (leases in Redis), renewed by one task per process.
    socket_slots: SocketSlots
    # Spaces by widget key, kept fresh by the control follower too (dispatch below).
    spaces: SpaceCache
    # The copy of agents' sign-ins and spaces that agents use while PostgreSQL is down
    # (chat/http/sign_in_copy.py).
    accounts: AccountCopies
    # Team routing (structures.md, "Routing"): agents' loads and the organizations' agents and
    # groups as routing reads them, cached per process.
    routing_log: RoutingLog
    directory: Directory
    team_routing: TeamRouting
    router_state: RouterState
    # Attachments' bytes (chat/files/storage.py): the local folder or an S3-compatible bucket.
    files: FileStore
    # Every series /metrics exports, updated as the work happens (chat/metrics/).
    metrics: Metrics
    # The live floor views (structures.md, "The floor view"): one actor per organization with
    # a viewer in this process.
    floors: Floors
    # How the reader and the control follower are doing, for /readyz (the projector's is in
    # `projector`).
    reader_health: LoopHealth = field(default_factory=LoopHealth)
    control_health: LoopHealth = field(default_factory=LoopHealth)
    # Deliberate drops of this process's sessions (1013 cut-offs), for /metrics.
    session_stats: SessionStats = field(default_factory=SessionStats)
    # A staged drain of this process (SIGUSR1; chat/actors/drain.py): /readyz fails meanwhile.
    drain: DrainState = field(default_factory=DrainState)
    # Webhooks (structures.md, "Webhooks"): this process's ingest and sender.
    webhook_ingest: IngestState = field(default_factory=IngestState)
    webhook_sender: SenderState = field(default_factory=SenderState)
    # The widget header's team and reply time per space (structures.md, "Appearance").
    team: TeamCache = field(default_factory=TeamCache)
    # The retention sweep (chat/actors/retention.py): trims of quiet spaces, deleted spaces'
    # keys removed.
    retention: RetentionState = field(default_factory=RetentionState)
    # The built-in rules bot (chat/actors/rules_bot.py): what it said and handed over.
    rules_bot: RulesBotState = field(default_factory=RulesBotState)

    def dispatch_control(self, entry: ControlEntry) -> None:
        """A control entry reaches the cache first, so a handshake that re-checks because
        the registry saw the entry (chat/actors/revocation.py) loads the space afresh."""
        self.spaces.dispatch(entry)
        self.revocations.dispatch(entry)
        if isinstance(entry.event, SpaceCreated):
            self.projector.follow_space(entry.event.space_id)
            self.webhook_ingest.follow_space(entry.event.space_id)
        if isinstance(entry.event, RoutingChanged):
            self.directory.invalidate(entry.event.organization_id)
            self.router_state.routing_changed(entry.event.organization_id)
            self.floors.touch(entry.event.organization_id)
        if isinstance(entry.event, SpaceCreated | SpaceUpdated | SpaceDeleted):
            self.floors.spaces_changed(entry.event.space_id)

    def thread_commands(self) -> ThreadCommands:
        return ThreadCommands(self.stream_log, self.db, self.routing_log, self.directory)

    def note_commands(self) -> NoteCommands:
        return NoteCommands(self.thread_commands(), self.stream_log.notes, self.db)

    async def routing_changed(self, organization_id: str) -> None:
        """After a change of an agent's availability, capacity or groups, or of a group,
        committed: this process reads it again at once, every other one at its control entry."""
        self.directory.invalidate(organization_id)
        await self.control.do_routing_changed(organization_id)


@asynccontextmanager
async def open_services(
    settings: Settings, *, projector: bool | None = None
) -> AsyncIterator[Services]:
    """Connect, start every background actor, and yield the services; all stop on exit.

    `projector` overrides `settings.projector_enabled`."""
    async with (
        open_redis(
            settings.redis_url, command_timeout=settings.redis_command_timeout_seconds
        ) as redis,
        open_database(
            settings.database_url,
            settings.db_pool_size,
            statement_timeout=settings.db_statement_timeout_seconds,
            pool_wait=settings.db_pool_wait_seconds,
        ) as db,
        trio.open_nursery() as nursery,
    ):
        stream_log = StreamLog(
            redis,
            settings.key_prefix,
            settings.ack_durability,
            presence_ttl_seconds=settings.presence_ttl_seconds,
            dedupe_window_seconds=settings.resume_window_seconds,
        )
        router = StreamRouter(stream_log, settings.node_id)
        routing_log = RoutingLog(redis, settings.key_prefix)
        directory = Directory(db)
        metrics = Metrics()
        services = Services(
            settings=settings,
            redis=redis,
            stream_log=stream_log,
            router=router,
            db=db,
            threads=ThreadActors(router, nursery),
            projector=ProjectorState(meter=metrics.projector),
            control=ControlLog(redis, settings.key_prefix),
            revocations=SessionRegistry(),
            socket_slots=SocketSlots(
                redis, settings.key_prefix, settings.visitor_sockets_per_address
            ),
            spaces=SpaceCache(db),
            accounts=AccountCopies(redis, settings.key_prefix),
            routing_log=routing_log,
            directory=directory,
            team_routing=TeamRouting(
                stream_log,
                routing_log,
                directory,
                round(settings.router_reservation_grace_seconds * 1000 / 2),
            ),
            router_state=RouterState(),
            files=open_file_store(settings),
            metrics=metrics,
            floors=Floors(
                FloorDeps(
                    router,
                    FloorReads(redis, settings.key_prefix, stream_log.presence_ttl_ms),
                    db,
                    directory,
                ),
                nursery,
            ),
            session_stats=SessionStats(visitor=metrics.visitor, agent=metrics.agent),
        )
        await nursery.start(run_stream_reader, redis, router, services.reader_health)
        # Started before HTTP serves: every revocation appended from now on reaches this process.
        await nursery.start(
            run_control_follower,
            services.control,
            services.dispatch_control,
            services.control_health,
        )
        if settings.projector_enabled if projector is None else projector:
            await nursery.start(run_projector, stream_log, db, settings, services.projector)
            await nursery.start(
                run_lag_sampler,
                stream_log,
                services.projector,
                settings.projector_lag_sample_seconds,
            )
        if settings.router_enabled:
            await nursery.start(
                run_router, services.team_routing, db, settings, services.router_state
            )
        if settings.rules_bot_enabled:
            await nursery.start(run_rules_bot, stream_log, db, settings, services.rules_bot)
        await nursery.start(services.socket_slots.run_renewer)
        await nursery.start(run_expiry_sweeper, stream_log, db, settings.expiry_check_seconds)
        await nursery.start(
            run_retention_sweeper,
            Retention(stream_log),
            db,
            settings.resume_window_seconds,
            settings.retention_sweep_seconds,
            services.retention,
        )
        await nursery.start(
            run_presence_sweeper,
            stream_log,
            db,
            settings.presence_check_seconds,
        )
        if settings.webhooks_enabled:
            sender = services.webhook_sender
            await nursery.start(run_webhook_sender, db, SenderConfig.of(settings), sender)
            await nursery.start(
                run_webhook_ingest, stream_log, db, settings, services.webhook_ingest, sender.wake
            )
        mailer = MailerConfig.of(settings)
        if mailer is None:
            logger.info(
                "email is off (CHAT_SMTP_HOST is not set): email conversations show only in the"
                " console"
            )
        else:
            await nursery.start(run_mailer, db, mailer)
        try:
            yield services
        finally:
            nursery.cancel_scope.cancel()


def open_file_store(settings: Settings) -> FileStore:
    """The configured file store; builds a client, does no I/O."""
    if settings.s3_bucket:
        return S3FileStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key.get_secret_value(),
        )
    folder = settings.attachments_dir
    if not folder:
        folder = str(Path(tempfile.gettempdir()) / "chat-attachments" / settings.key_prefix)
    return LocalFileStore(Path(folder))
