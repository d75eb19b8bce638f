"""The conversation reports, computed in PostgreSQL from the projected log (README "Reports" for
what each figure means, structures.md "Reports" for how it is computed and kept fast).

Two scans, each one pass over an index range, grouped once with GROUPING SETS into the periods,
the breakdown (space, group or agent) and the whole window, so that medians and p90s are exact
for every row (percentiles of periods cannot be combined into the window's):
- by opening (`threads_space_created`): opened, answered, missed, first response time, messages;
- by ending (`threads_space_closed`, migrations/0021): closed, expired, resolution time.
What a report needs of a conversation's messages is one row of `conversation_stats` (a rollup a
trigger keeps: schema.sql), joined by thread id, so no report reads `messages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

Interval = Literal["day", "week"]
Dimension = Literal["space", "group", "agent"]

# The breakdown's column, from a fixed table (never the client's text).
_DIMENSION_COLUMN: dict[Dimension, str] = {
    "space": "space_id",
    "group": "group_id",
    "agent": "agent_id",
}
# Sorting for the percentiles: a month of a large organization sorts in memory (the 4 MB default
# spilled it to disk); a year of a million spills some 40 MB, measured: the same CPU time as
# 256 MB, so no more is asked. Set for the report's transaction only.
REPORT_WORK_MEM = "64MB"
# A report may take longer than the pool's statement timeout (a few seconds, sized for the
# service's own queries): a year of a million conversations costs about 4 s of PostgreSQL CPU
# (README "Performance"), more on a busy machine; this bounds a far larger organization's.
REPORT_STATEMENT_TIMEOUT = "30s"
# Figures the opening scan gives, and those the ending scan gives (the API's field names).
OPENING_FIGURES = (
    "opened",
    "answered",
    "missed",
    "first_response_median_seconds",
    "first_response_p90_seconds",
    "visitor_messages",
    "agent_messages",
    # Bots (structures.md, "Bots"): the figures above are people's; these are bots'.
    "bot_answered",
    "bot_only",
    "bot_first_response_median_seconds",
    "bot_first_response_p90_seconds",
    "bot_messages",
)
ENDING_FIGURES = ("closed", "expired", "resolution_median_seconds", "resolution_p90_seconds")
# Visitors' ratings (the closeloop branch's `ratings`, migration 0017), by the rating's time.
RATING_FIGURES = ("rated_good", "rated_bad")
FIGURES = (
    *OPENING_FIGURES,
    *ENDING_FIGURES,
    "messages_per_conversation",
    *RATING_FIGURES,
    "share_good",
)
SECONDS_PLACES = 1  # times are rounded to tenths of a second
RATIO_PLACES = 2


@dataclass(frozen=True, slots=True)
class ReportScope:
    """What a report covers: dates are the organization's calendar days, both inclusive."""

    space_ids: list[str]
    first_day: date
    last_day: date
    time_zone: str  # IANA, checked when it was stored (chat/time_zones.py)
    interval: Interval
    group_id: str | None = None
    agent_id: str | None = None
    by: Dimension | None = None


@dataclass(frozen=True, slots=True)
class ReportRows:
    """The figures per period start, per breakdown key (None: no group / unassigned) and for the
    whole window. Periods and keys without a conversation are absent."""

    periods: dict[date, dict[str, Any]]
    breakdown: dict[str | None, dict[str, Any]]
    total: dict[str, Any]


# The window's bounds: the organization's midnights, as instants. PostgreSQL computes them (not
# Python) so the bounds and the periods' cut come from one zone database.
_WINDOW = (
    "(%(first_day)s::date::timestamp AT TIME ZONE %(tz)s)",
    "((%(last_day)s::date + 1)::timestamp AT TIME ZONE %(tz)s)",
)

_OPENING = """
SELECT {sets_columns},
    count(*) AS opened,
    count(c.first_response) AS answered,
    count(*) FILTER (WHERE c.status IN ('closed', 'expired') AND c.first_response IS NULL
        AND c.bot_first_response IS NULL) AS missed,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY c.first_response)
        AS first_response_median_seconds,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY c.first_response) AS first_response_p90_seconds,
    coalesce(sum(c.visitor_messages), 0)::bigint AS visitor_messages,
    coalesce(sum(c.agent_messages), 0)::bigint AS agent_messages,
    count(c.bot_first_response) AS bot_answered,
    count(*) FILTER (WHERE c.status IN ('closed', 'expired') AND c.first_response IS NULL
        AND c.bot_first_response IS NOT NULL) AS bot_only,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY c.bot_first_response)
        AS bot_first_response_median_seconds,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY c.bot_first_response)
        AS bot_first_response_p90_seconds,
    coalesce(sum(c.bot_messages), 0)::bigint AS bot_messages
FROM (
    SELECT t.space_id, t.group_id, t.assigned_agent_id AS agent_id, t.status,
        date_trunc(%(unit)s, t.created_at AT TIME ZONE %(tz)s)::date AS period,
        extract(epoch FROM s.first_agent_message_at - t.created_at)::float8 AS first_response,
        extract(epoch FROM s.first_bot_message_at - t.created_at)::float8 AS bot_first_response,
        s.visitor_messages, s.agent_messages, s.bot_messages
    FROM threads t LEFT JOIN conversation_stats s ON s.thread_id = t.id
    WHERE t.space_id = ANY(%(spaces)s::uuid[]) AND t.deleted_at IS NULL
        AND t.created_at >= {start} AND t.created_at < {end}{filters}
) c
GROUP BY GROUPING SETS ({sets})
"""

_ENDING = """
SELECT {sets_columns},
    count(*) FILTER (WHERE c.status = 'closed') AS closed,
    count(*) FILTER (WHERE c.status = 'expired') AS expired,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY c.resolution) AS resolution_median_seconds,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY c.resolution) AS resolution_p90_seconds
FROM (
    SELECT t.space_id, t.group_id, t.assigned_agent_id AS agent_id, t.status,
        date_trunc(%(unit)s, t.closed_at AT TIME ZONE %(tz)s)::date AS period,
        CASE WHEN t.status = 'closed'
            THEN extract(epoch FROM t.closed_at - t.created_at)::float8 END AS resolution
    FROM threads t
    WHERE t.space_id = ANY(%(spaces)s::uuid[]) AND t.deleted_at IS NULL
        AND t.closed_at IS NOT NULL AND t.status IN ('closed', 'expired')
        AND t.closed_at >= {start} AND t.closed_at < {end}{filters}
) c
GROUP BY GROUPING SETS ({sets})
"""


_RATINGS = """
SELECT {sets_columns},
    count(*) FILTER (WHERE c.score = 'good') AS rated_good,
    count(*) FILTER (WHERE c.score = 'bad') AS rated_bad
FROM (
    SELECT t.space_id, t.group_id, t.assigned_agent_id AS agent_id, r.score,
        date_trunc(%(unit)s, r.created_at AT TIME ZONE %(tz)s)::date AS period
    FROM ratings r JOIN threads t ON t.id = r.thread_id
    WHERE r.space_id = ANY(%(spaces)s::uuid[]) AND t.deleted_at IS NULL
        AND r.created_at >= {start} AND r.created_at < {end}{filters}
) c
GROUP BY GROUPING SETS ({sets})
"""


def _sql(template: str, scope: ReportScope) -> str:
    filters = ""
    if scope.group_id is not None:
        filters += " AND t.group_id = %(group_id)s"
    if scope.agent_id is not None:
        filters += " AND t.assigned_agent_id = %(agent_id)s"
    key = _DIMENSION_COLUMN[scope.by] if scope.by else "NULL::uuid"
    sets = "(c.period), ()" if scope.by is None else f"(c.period), (c.{key}), ()"
    key_column = "NULL::text" if scope.by is None else f"c.{key}::text"
    group_of_key = "1" if scope.by is None else f"GROUPING(c.{key})"
    columns = (
        f"c.period, {key_column} AS key, GROUPING(c.period) AS no_period, {group_of_key} AS no_key"
    )
    start, end = _WINDOW
    return template.format(sets_columns=columns, sets=sets, filters=filters, start=start, end=end)


def _params(scope: ReportScope) -> dict[str, Any]:
    return {
        "spaces": scope.space_ids,
        "first_day": scope.first_day,
        "last_day": scope.last_day,
        "tz": scope.time_zone,
        "unit": scope.interval,
        "group_id": scope.group_id,
        "agent_id": scope.agent_id,
    }


def conversation_report(conn: psycopg.Connection, scope: ReportScope) -> ReportRows:
    """The figures of `scope`, read in one transaction with one snapshot for both scans
    (REPEATABLE READ, read only), so a conversation closed meanwhile is not counted half."""
    rows = ReportRows({}, {}, {})
    params = _params(scope)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        cur.execute(f"SET LOCAL statement_timeout = '{REPORT_STATEMENT_TIMEOUT}'")
        for template in (_OPENING, _ENDING, _RATINGS):
            for row in cur.execute(_sql(template, scope), params).fetchall():
                _place(rows, row)
    return rows


def _place(rows: ReportRows, row: dict[str, Any]) -> None:
    """A grouping-sets row into the period, breakdown key or total it belongs to."""
    figures = {k: v for k, v in row.items() if k not in ("period", "key", "no_period", "no_key")}
    if not row["no_period"]:
        rows.periods.setdefault(row["period"], {}).update(figures)
    elif not row["no_key"]:
        rows.breakdown.setdefault(row["key"], {}).update(figures)
    else:
        rows.total.update(figures)


def finish(figures: dict[str, Any]) -> dict[str, Any]:
    """Every figure present (zero, or None for a time nothing measured), times rounded, and
    messages per conversation derived."""
    done: dict[str, Any] = {}
    for name in (*OPENING_FIGURES, *ENDING_FIGURES, *RATING_FIGURES):
        value = figures.get(name)
        if name.endswith("_seconds"):
            done[name] = None if value is None else round(float(value), SECONDS_PLACES)
        else:
            done[name] = int(value or 0)
    messages = done["visitor_messages"] + done["agent_messages"] + done["bot_messages"]
    done["messages_per_conversation"] = (
        round(messages / done["opened"], RATIO_PLACES) if done["opened"] else None
    )
    rated = done["rated_good"] + done["rated_bad"]
    done["share_good"] = round(done["rated_good"] / rated, RATIO_PLACES) if rated else None
    return done
