"""The operators' endpoints: liveness, readiness, metrics.

- GET /healthz: the process answers HTTP. Cheap, touches no storage: a restart cures nothing
  that /readyz reports.
- GET /readyz: this process can do its work: Redis and PostgreSQL answer within
  READY_PING_SECONDS, and none of the stream reader, the control follower and the projector has
  been failing for `readiness_failing_seconds` or made no pass for LOOP_STALLED_SECONDS. A 503
  names what fails (`{"status": "unavailable", "failing": ["projector"]}`), never why: exception
  texts carry host names and ports, which the logs have. A draining process (SIGUSR1,
  chat/actors/drain.py) answers 503 `{"status": "draining"}`.
- GET /metrics: Prometheus text read from memory (chat/http/metrics.py): private. With
  `metrics_token` set it needs that bearer token; without, it answers only to a loopback peer on
  a request no proxy forwarded (no X-Forwarded-For / Forwarded / X-Real-IP header).
See structures.md, "Process layout".
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable

import trio
from quart import Blueprint, Response, jsonify, request

from chat.config import Settings
from chat.errors import ForbiddenError, UnauthorizedError
from chat.http.metrics import metrics_text
from chat.metrics.exposition import CONTENT_TYPE
from chat.services import Services
from chat.streams.health import LoopHealth

logger = logging.getLogger(__name__)

# A storage ping that takes longer than this counts as failed: a balancer's probe (typically
# with a 1 s timeout) gets an answer, and an outage is reported at once instead of after the
# pool wait. The two pings run side by side.
READY_PING_SECONDS = 0.5
# A loop that made no pass this long is stuck, error or not: each pass is bounded (the reader's
# and the follower's reads block 2 s and are cut after 12; the projector's reads block 1 s).
LOOP_STALLED_SECONDS = 30.0
# Headers a proxy adds: a request carrying one came through a proxy, even from loopback.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def probes_blueprint(services: Services) -> Blueprint:
    bp = Blueprint("probes", __name__)

    @bp.get("/healthz")
    async def healthz() -> Response:
        return jsonify({"status": "ok"})

    @bp.get("/readyz")
    async def readyz() -> tuple[Response, int]:
        if services.drain.draining:
            # Before any storage check: the balancer must stop sending, whatever else holds.
            return jsonify({"status": "draining"}), 503
        failing = await _storage_failing(services)
        failing += loops_failing(services, trio.current_time())
        if failing:
            return jsonify({"status": "unavailable", "failing": failing}), 503
        return jsonify({"status": "ok"}), 200

    @bp.get("/metrics")
    async def metrics() -> Response:
        check_operator(services.settings)
        return Response(metrics_text(services), content_type=CONTENT_TYPE)

    return bp


def loops_failing(services: Services, now: float) -> list[str]:
    """The background loops that fail or are stuck, by name."""
    threshold = services.settings.readiness_failing_seconds
    loops = {
        "stream_reader": services.reader_health,
        "control_follower": services.control_health,
    }
    failing = [name for name, health in loops.items() if _unhealthy(health, now, threshold)]
    since = services.projector.failing_since
    if since is not None and now - since >= threshold:
        failing.append("projector")
    return failing


def _unhealthy(health: LoopHealth, now: float, threshold: float) -> bool:
    if health.failing_since is not None and now - health.failing_since >= threshold:
        return True
    return health.last_iteration is not None and now - health.last_iteration > LOOP_STALLED_SECONDS


async def _storage_failing(services: Services) -> list[str]:
    async def redis() -> None:
        await services.stream_log.ping()

    async def postgresql() -> None:
        await services.db.run(lambda c: c.execute("SELECT 1"))

    failing: list[str] = []
    async with trio.open_nursery() as nursery:
        for name, ping in (("redis", redis), ("postgresql", postgresql)):
            nursery.start_soon(_ping, name, ping, failing)
    return sorted(failing)


async def _ping(name: str, ping: Callable[[], Awaitable[None]], failing: list[str]) -> None:
    try:
        with trio.fail_after(READY_PING_SECONDS):
            await ping()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        logger.info("readiness: %s failed: %r", name, exc)
        failing.append(name)


def check_operator(settings: Settings) -> None:
    """Let only the operator through (see the module docstring); raise otherwise."""
    if settings.metrics_token:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        given = token.strip().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given, settings.metrics_token.encode()
        ):
            raise UnauthorizedError("a valid operator token is required")
        return
    if not _is_loopback(request.remote_addr) or any(h in request.headers for h in PROXY_HEADERS):
        raise ForbiddenError("only readable from this host, or with CHAT_METRICS_TOKEN set")


def _is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False
