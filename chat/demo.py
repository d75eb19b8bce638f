"""Demo accounts for `make run`: one organization, an admin, and a space for localhost."""

from __future__ import annotations

from functools import partial

import psycopg
import trio

from chat.auth.passwords import hash_password
from chat.config import Settings
from chat.db import accounts, space_queries

DEMO_EMAIL = "admin@demo.example"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed for the demo, on purpose


def ensure_demo(settings: Settings, host: str, port: int) -> None:
    password_hash = trio.run(partial(hash_password, DEMO_PASSWORD, budget="demo"))
    with psycopg.connect(settings.database_url, autocommit=True) as conn, conn.transaction():
        agent = accounts.agent_by_email(conn, DEMO_EMAIL)
        if agent is None:
            _org, agent = accounts.create_organization_with_admin(
                conn, "Demo", "Demo Admin", DEMO_EMAIL, password_hash
            )
        spaces = space_queries.list_spaces(conn, agent.organization_id)
        space = (
            spaces[0]
            if spaces
            else space_queries.create_space(
                conn,
                agent.organization_id,
                "Demo site",
                [f"localhost:{port}", f"127.0.0.1:{port}"],
                {},
            )
        )
    print("demo:", flush=True)
    print(f"  page:        http://{host}:{port}/", flush=True)
    print(f"  agent login: {DEMO_EMAIL} / {DEMO_PASSWORD}", flush=True)
    print(f"  widget key:  {space.widget_key}", flush=True)
