"""Reports over a year of data: GET /api/v1/reports/conversations timed on a generated year of
conversations (bench/report_data.py, COPYed into the service's PostgreSQL: the one scenario
that writes below the public API, because a million conversations through the log would take
hours and measure the projector instead).

Each step is one report as the console or a CSV download asks for it, timed end to end over
REST (the queries, the JSON or CSV, HTTP), `repeats` times: the record keeps the median with
min and max. Every report's total is checked against what was loaded (a year's `opened` is
every conversation), so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import time
import urllib.request
from datetime import UTC, datetime, timedelta

import orjson
import psutil
import trio

from bench import api
from bench.record import ScenarioResult, Step
from bench.report import spread
from bench.report_data import Team, load_year
from bench.scenarios import Context

SPACES = 4
AGENTS_PER_SPACE = 5
GROUPS = 3
# The generous bound on one report's answer: far above what it takes, only there so a hung
# request ends the run.
REQUEST_TIMEOUT_SECONDS = 120


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU time of these processes so far (those gone since count nothing)."""
    total = 0.0
    for proc in processes:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _get(url: str, token: str) -> tuple[float, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as reply:  # noqa: S310
        body = reply.read()
    return time.perf_counter() - started, body


def _steps(end: datetime, days: int, space_id: str, agent_id: str) -> list[tuple[str, str]]:
    """(label, query) of each report timed: the console's default view, then a year's."""
    last = (end - timedelta(days=1)).date().isoformat()
    month = (end - timedelta(days=30)).date().isoformat()
    year = (end - timedelta(days=days)).date().isoformat()
    return [
        ("30 days by day", f"from={month}&to={last}"),
        ("year by week", f"from={year}&to={last}&interval=week"),
        ("year by day, by agent", f"from={year}&to={last}&by=agent"),
        ("year by week, by space", f"from={year}&to={last}&interval=week&by=space"),
        ("year, one space, by group", f"from={year}&to={last}&space_id={space_id}&by=group"),
        ("year, one agent", f"from={year}&to={last}&interval=week&agent_id={agent_id}"),
        ("year by day, CSV", f"from={year}&to={last}&format=csv"),
    ]


async def run(ctx: Context) -> ScenarioResult:
    params = ctx.profile.reports
    service = ctx.service
    result = ScenarioResult(
        "reports",
        {"conversations": params.conversations, "days": params.days, "spaces": SPACES},
    )
    if not service.managed or service.database_url is None:
        result.notes.append("reports: skipped, it writes into PostgreSQL (a managed service only)")
        return result
    tenant = await api.make_tenant(service.base_url, SPACES, AGENTS_PER_SPACE)
    groups = [
        (await api.call("POST", f"{service.base_url}/api/v1/groups", {"name": f"G{n}"},
                        tenant.admin_token))["id"]
        for n in range(GROUPS)
    ]  # fmt: skip
    team = Team([s.id for s in tenant.spaces], groups, [a.id for a in tenant.agents])
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    started = time.monotonic()
    async with ctx.reporter.timed(f"reports: loading {params.conversations} conversations", 60):
        loaded = await trio.to_thread.run_sync(
            load_year, service.database_url, team, params.conversations, params.days, end
        )
    result.params.update(
        {"messages": loaded.messages, "load_seconds": round(time.monotonic() - started, 1)}
    )
    wrong: list[str] = []
    for label, query in _steps(end, params.days, team.space_ids[0], team.agent_ids[0]):
        step = Step(label, {"query": query})
        url = f"{service.base_url}/api/v1/reports/conversations?{query}"
        for _ in range(ctx.repeats):
            # PostgreSQL's CPU time besides the wall time: on a machine shared with other work
            # the wall time waits for a core, the CPU time does not.
            postgres = service.store_processes().get("postgres", [])
            cpu_before = _cpu_seconds(postgres)
            async with ctx.reporter.timed(f"reports: {label}", 2):
                seconds, body = await trio.to_thread.run_sync(_get, url, tenant.admin_token)
            step.repeats.append(
                {
                    "seconds": round(seconds, 3),
                    "postgres_cpu_seconds": round(_cpu_seconds(postgres) - cpu_before, 3),
                    "bytes": len(body),
                }
            )
        if label.startswith("year by") and not label.endswith("CSV"):
            opened = orjson.loads(body)["total"]["opened"]
            if opened != loaded.conversations:
                wrong.append(f"{label}: opened {opened} of {loaded.conversations}")
        result.steps.append(step)
        ctx.reporter.row(
            "reports", label, {"seconds": spread(step.as_json()["summary"], "seconds", " s")}
        )
    result.headline = {
        "conversations": loaded.conversations,
        "messages": loaded.messages,
        **{_key(s.label): s.median("seconds") for s in result.steps},
        **{_key(s.label, "cpu"): s.median("postgres_cpu_seconds") for s in result.steps},
        "wrong_totals": wrong,
    }
    result.notes.append(
        "seconds: one GET over REST, end to end; postgres_cpu_seconds: PostgreSQL's user+system"
        " CPU time meanwhile (all its processes); data loaded with COPY, then VACUUM ANALYZE"
    )
    return result


def _key(label: str, kind: str = "seconds") -> str:
    words = "".join(c if c.isalnum() else " " for c in label.lower()).split()
    return f"{kind}_" + "_".join(words)
