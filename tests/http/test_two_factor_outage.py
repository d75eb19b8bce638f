"""Two-factor sign-in while PostgreSQL is down: the sign-in copy in Valkey (which admits access
tokens during an outage) is never a way around the second factor. A challenge token opens no
socket, and no code is turned into tokens without PostgreSQL."""

from __future__ import annotations

import trio

from chat.config import Settings
from chat.embedded.services import EmbeddedServices
from chat.server import serve
from tests.helpers.api import assert_error
from tests.helpers.chat import PASSWORD, make_org
from tests.helpers.db import database_down
from tests.helpers.http import call
from tests.helpers.totp import totp
from tests.test_agent_outage import CLOSE_UNAUTHORIZED, closed_with


async def test_no_second_factor_is_skipped_while_postgresql_is_down(
    settings: Settings, embedded: EmbeddedServices, nursery: trio.Nursery
) -> None:
    with trio.fail_after(120):
        base = str((await nursery.start(serve, settings, "127.0.0.1", 0))[0])
        org = await make_org(base)
        api = f"{base}/api/v1"
        started = await call("POST", f"{api}/auth/two-factor/enrol", token=org.token)
        secret = started.body["secret"]
        code = {"code": totp(secret)}
        confirmed = await call("POST", f"{api}/auth/two-factor/confirm", code, token=org.token)
        assert confirmed.status == 200, confirmed.body
        login = {"email": org.agent["email"], "password": PASSWORD}
        refused = await call("POST", f"{api}/auth/login", login)
        challenge = assert_error(refused, 401, "two_factor_code_required")["details"]
        token = challenge["challenge_token"]

        async with database_down(embedded.database_url, settings.database_url):
            assert await closed_with(base, token) == CLOSE_UNAUTHORIZED
            assert_error(await call("GET", f"{api}/auth/me", token=token), 401, "unauthorized")
            body = {"challenge_token": token, "code": totp(secret, steps_ahead=1)}
            second = await call("POST", f"{api}/auth/login/second-factor", body)
            assert_error(second, 503, "unavailable")
            assert_error(await call("POST", f"{api}/auth/login", login), 503, "unavailable")
            # The sign-in that enrolled (it passed the factor) works on from the copy.
            me = await call("GET", f"{api}/auth/me", token=org.token)
            assert me.status == 200 and me.body["id"] == org.agent["id"]
