"""`python -m bench.search`: search on a million messages, and what its index costs the projector.

Starts its own embedded PostgreSQL in a scratch folder (not the service: loading a million
messages through the log would bench the log), applies schema.sql and the migrations, and COPYs
`--messages` rows into one organization (plus a few other organizations' spaces, so tenancy is
filtered, not free). Then:
- search latency p50/p99 of a few queries through chat.db.search_queries (the route's own SQL,
  highlights included), first page of 20;
- the projector's message INSERT (chat/db/projection.py's statement, batches of 50) timed with
  the search column and GIN index, then without them (the column dropped).
Prints one JSON object; README "Search" holds a run's figures.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from chat.db import search_queries
from chat.db.migrations import apply_migrations
from chat.db.projection import _INSERT_MESSAGES
from chat.db.schema import SCHEMA_PATH
from chat.embedded.postgres import start_postgres, stop_postgres

_WORDS = (
    "order delivery parcel invoice payment card account password login email address shipping"
    " tracking return exchange size colour price discount coupon subscription cancel upgrade"
    " warranty broken missing late help thanks hello question answer please today tomorrow"
).split()
_RARE = ("refund", "chargeback", "fraudulent", "liability")
QUERIES = ("refunds", "parcel tracking", '"missing parcel"', "chargeback", "hello", "xyzzy")
INSERT_BATCH = 50  # what the projector writes per statement under load
INSERT_BATCHES = 200
OTHER_ORGS = 4


def _content(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(4, 30))
    if rng.random() < 0.01:
        words.insert(rng.randrange(len(words)), rng.choice(_RARE) + rng.choice(("", "s", "ed")))
    return " ".join(words).capitalize() + "."


def _load(conn: psycopg.Connection, spaces: list[str], count: int, rng: random.Random) -> float:
    started = time.perf_counter()
    base_ms = 1_700_000_000_000
    threads = [(str(uuid.uuid4()), rng.choice(spaces)) for _ in range(max(1, count // 10))]
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY messages (thread_id, id_ms, id_seq, space_id, sender_type, sender_id,"
            " sender_name, content, client_id, created_at) FROM STDIN"
        ) as copy,
    ):
        for n in range(count):
            thread_id, space_id = threads[n % len(threads)]
            ms = base_ms + n
            sender = "visitor" if n % 2 else "agent"
            copy.write_row(
                (
                    thread_id,
                    ms,
                    0,
                    space_id,
                    sender,
                    "s",
                    "Sam",
                    _content(rng),
                    str(n),
                    "2024-01-01T00:00:00Z",
                )
            )
    conn.commit()
    return time.perf_counter() - started


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2)}


def _search_latency(conn: psycopg.Connection, org: str, repeats: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for q in QUERIES:
        samples = []
        hits = 0
        for _ in range(repeats):
            started = time.perf_counter()
            items, _key = search_queries.search_messages(conn, org, q, 20)
            samples.append(time.perf_counter() - started)
            hits = len(items)
        matching = conn.execute(
            "SELECT count(*) FROM messages WHERE search_vector @@"
            " (websearch_to_tsquery('english', %(q)s) || websearch_to_tsquery('simple', %(q)s))",
            {"q": q},
        ).fetchone()
        found[q] = {**_percentiles(samples), "page": hits, "matching": matching and matching[0]}
    return found


def _insert_cost(conn: psycopg.Connection, space: str, rng: random.Random) -> dict[str, float]:
    samples = []
    thread = str(uuid.uuid4())
    start_ms = 1_900_000_000_000 + rng.randrange(10**9)
    for b in range(INSERT_BATCHES):
        rows = [
            (
                thread,
                start_ms + b * INSERT_BATCH + i,
                0,
                space,
                "visitor",
                "s",
                "Sam",
                _content(rng),
                f"{start_ms}-{b}-{i}",
                None,  # no attachment
            )
            for i in range(INSERT_BATCH)
        ]
        columns = [list(c) for c in zip(*rows, strict=True)]
        started = time.perf_counter()
        conn.execute(_INSERT_MESSAGES, columns)
        conn.commit()
        samples.append(time.perf_counter() - started)
    return _percentiles(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="a data folder to keep (default: scratch)")
    args = parser.parse_args(argv)
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="bench-search-"))
    rng = random.Random(13)  # noqa: S311 (reproducible text, not secrets)
    pg = start_postgres(data_dir)
    result: dict[str, Any] = {"messages": args.messages}
    try:
        with psycopg.connect(pg.url, autocommit=True) as setup:
            setup.execute(SCHEMA_PATH.read_text())
        apply_migrations(pg.url)
        with psycopg.connect(pg.url) as conn:
            orgs = []
            for n in range(1 + OTHER_ORGS):
                org = str(uuid.uuid4())
                conn.execute("INSERT INTO organizations (id, name) VALUES (%s, %s)", (org, n))
                space = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO spaces (id, organization_id, name, widget_key, allowed_domains,"
                    " settings) VALUES (%s, %s, 's', %s, '{}', '{}')",
                    (space, org, uuid.uuid4().hex),
                )
                orgs.append((org, space))
            conn.commit()
            # Half the messages are the searched organization's, half the others'.
            spaces = [orgs[0][1]] * OTHER_ORGS + [s for _o, s in orgs[1:]]
            result["copy_seconds"] = round(_load(conn, spaces, args.messages, rng), 1)
            conn.execute("ANALYZE messages")
            conn.commit()
            size = conn.execute(
                "SELECT pg_size_pretty(pg_relation_size('messages')),"
                " pg_size_pretty(pg_relation_size('messages_search'))"
            ).fetchone()
            result["table_size"], result["gin_size"] = size if size else (None, None)
            result["search"] = _search_latency(conn, orgs[0][0], args.repeats)
            result["insert_with_gin"] = _insert_cost(conn, orgs[0][1], rng)
            conn.execute("DROP INDEX messages_search")
            conn.execute("ALTER TABLE messages DROP COLUMN search_vector")
            conn.commit()
            result["insert_without_search"] = _insert_cost(conn, orgs[0][1], rng)
    finally:
        stop_postgres(data_dir)
        if args.keep is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
