"""Throttling: login attempts per email and per address, the request budget, shared in Redis."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import trio
from quart import jsonify
from quart_trio import QuartTrio

from chat.auth.tokens import AccessClaims, issue_access_token
from chat.config import Settings
from chat.errors import UnavailableError
from chat.http.errors import install_error_handlers
from chat.http.throttle import address_id, email_id, install_request_budget
from chat.server import serve
from chat.streams.client import open_redis
from chat.streams.limits import Rate, RateLimiter, limit_key
from tests.helpers.chat import PASSWORD, make_org
from tests.helpers.http import Reply, call

WRONG = "wrong password!"


async def _serve(nursery: trio.Nursery, settings: Settings) -> str:
    binds = await nursery.start(serve, settings, "127.0.0.1", 0)
    return str(binds[0])


async def _login(base: str, email: str, password: str = PASSWORD) -> Reply:
    return await call("POST", f"{base}/api/v1/auth/login", {"email": email, "password": password})


def _login_from_sync(source: str, base: str, email: str, password: str) -> int:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=20, source_address=(source, 0))
    try:
        body = json.dumps({"email": email, "password": password})
        conn.request(
            "POST", "/api/v1/auth/login", body, headers={"Content-Type": "application/json"}
        )
        return conn.getresponse().status
    finally:
        conn.close()


async def _login_status_from(source: str, base: str, email: str, password: str = PASSWORD) -> int:
    """A login's status, sent from the loopback address `source` (Linux answers all of
    127.0.0.0/8), so the server sees another client address."""
    return await trio.to_thread.run_sync(_login_from_sync, source, base, email, password)


def _retry_after(reply: Reply) -> int:
    found = {k.lower(): v for k, v in reply.headers.items()}
    return int(found["retry-after"])


def _assert_rate_limited(reply: Reply, most_seconds: int) -> None:
    """A 429 in the contract's shape whose Retry-After is a whole number within the window."""
    assert reply.status == 429, reply.body
    assert set(reply.body) == {"error"}
    error = reply.body["error"]
    assert error["code"] == "rate_limited" and error["message"]
    assert 1 <= _retry_after(reply) <= most_seconds
    assert error["details"]["retry_after_seconds"] == _retry_after(reply)


async def test_sixth_login_for_one_email_is_refused_even_with_the_right_password(
    settings: Settings, nursery: trio.Nursery
) -> None:
    limited = settings.model_copy(
        update={"login_attempts_per_minute": 5, "login_attempts_per_address_per_minute": 100}
    )
    with trio.fail_after(60):
        base = await _serve(nursery, limited)
        email = (await make_org(base)).agent["email"]
        for password in (WRONG, WRONG, WRONG, WRONG):
            assert (await _login(base, email, password)).status == 401
        assert (await _login(base, email)).status == 200
        # 5 a minute: the bucket refills one attempt every 12 s.
        _assert_rate_limited(await _login(base, email), most_seconds=12)
        # Counted by email, whatever its case.
        _assert_rate_limited(await _login(base, email.upper()), most_seconds=12)
        # Another account from the same address is not affected.
        other = (await make_org(base)).agent["email"]
        assert (await _login(base, other)).status == 200


async def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """Issue 15, finding 6: 5 wrong passwords a minute locked an account's owner out from
    everywhere. The budget is per email and address pair now, under a higher per-email ceiling
    for guessing spread over many addresses."""
    limited = settings.model_copy(
        update={
            "login_attempts_per_minute": 5,
            "login_attempts_per_email_per_minute": 8,
            "login_attempts_per_address_per_minute": 100,
        }
    )
    with trio.fail_after(60):
        base = await _serve(nursery, limited)
        email = (await make_org(base)).agent["email"]
        for _ in range(5):
            assert await _login_status_from("127.0.0.2", base, email, WRONG) == 401
        assert await _login_status_from("127.0.0.2", base, email) == 429
        # The owner, elsewhere, signs in.
        assert await _login_status_from("127.0.0.1", base, email) == 200
        # Guessing from more addresses meets the email's ceiling (8: 5 + 1 + 2 more).
        assert await _login_status_from("127.0.0.3", base, email, WRONG) == 401
        assert await _login_status_from("127.0.0.3", base, email, WRONG) == 401
        _assert_rate_limited(await _login(base, email), most_seconds=8)


async def test_the_address_limit_spans_emails_and_registration(
    settings: Settings, nursery: trio.Nursery
) -> None:
    limited = settings.model_copy(
        update={"login_attempts_per_minute": 5, "login_attempts_per_address_per_minute": 6}
    )
    with trio.fail_after(60):
        base = await _serve(nursery, limited)
        emails = [f"nobody-{n}-{uuid.uuid4().hex[:6]}@example.com" for n in range(7)]
        for email in emails[:6]:
            assert (await _login(base, email, WRONG)).status == 401
        # 6 a minute from one address: one more every 10 s.
        _assert_rate_limited(await _login(base, emails[6], WRONG), most_seconds=10)
        body = {
            "organization_name": "Acme",
            "name": "Ada",
            "email": emails[6],
            "password": PASSWORD,
        }
        _assert_rate_limited(
            await call("POST", f"{base}/api/v1/auth/register", body), most_seconds=10
        )


async def test_login_limit_holds_across_two_servers_sharing_redis(
    settings: Settings, nursery: trio.Nursery
) -> None:
    limited = settings.model_copy(
        update={"login_attempts_per_minute": 5, "login_attempts_per_address_per_minute": 100}
    )
    with trio.fail_after(60):
        first = await _serve(nursery, limited.model_copy(update={"node_id": "throttle-a"}))
        second = await _serve(nursery, limited.model_copy(update={"node_id": "throttle-b"}))
        email = (await make_org(first)).agent["email"]
        for base in (first, second, first, second, first):
            assert (await _login(base, email, WRONG)).status == 401
        # The second server saw only two attempts itself; the shared bucket saw five.
        _assert_rate_limited(await _login(second, email), most_seconds=12)


async def test_request_budget_per_agent_then_per_address(
    settings: Settings, nursery: trio.Nursery
) -> None:
    # A burst of 5, then one a minute: nothing refills while the test runs.
    limited = settings.model_copy(update={"api_requests_per_minute": 1, "api_burst": 5})
    with trio.fail_after(60):
        base = await _serve(nursery, limited)
        api = f"{base}/api/v1"
        email = f"ada-{uuid.uuid4().hex[:6]}@example.com"
        body = {"organization_name": "Acme", "name": "Ada", "email": email, "password": PASSWORD}
        registered = await call("POST", f"{api}/auth/register", body)  # address: 1 of 5
        assert registered.status == 201, registered.body
        token, agent = registered.body["access_token"], registered.body["agent"]
        # A token naming the agent but not signed with our key spends the address's budget.
        forged = issue_access_token(
            "another-secret-key-0123456789abcdef",
            AccessClaims(agent["id"], agent["organization_id"], "admin", str(uuid.uuid4())),
            60,
        )
        for _ in range(2):  # address: 3 of 5
            assert (await call("GET", f"{api}/auth/me", token=forged)).status == 401
        for _ in range(5):  # the agent's own budget, untouched by the forgeries
            assert (await call("GET", f"{api}/auth/me", token=token)).status == 200
        _assert_rate_limited(await call("GET", f"{api}/auth/me", token=token), most_seconds=60)
        # Requests without a token count against the address: two more are allowed.
        for _ in range(2):
            assert (await call("GET", f"{api}/auth/me")).status == 401
        _assert_rate_limited(await call("GET", f"{api}/auth/me"), most_seconds=60)
        # Outside /api/v1 nothing is counted.
        assert (await call("GET", f"{base}/healthz")).status == 200


async def test_limiter_burst_then_refill(settings: Settings) -> None:
    """GCRA in Redis. Refill is checked without sleeping: moving the bucket's stored arrival
    time back by d is exactly what d seconds passing does to it (the script compares it with
    Redis' TIME), so the test is independent of how fast the machine runs."""
    rate = Rate(count=2, period_seconds=10.0, burst=2)  # one attempt refills every 5 s
    with trio.fail_after(30):
        async with open_redis(settings.redis_url) as redis:
            limiter = RateLimiter(redis, settings.key_prefix)
            key = limit_key(settings.key_prefix, "unit", "a")
            assert key == f"{settings.key_prefix}:rl:unit:a"
            first, second = (
                await limiter.hit("unit", "a", rate),
                await limiter.hit("unit", "a", rate),
            )
            assert first.allowed and second.allowed and first.retry_after == 0
            refused = await limiter.hit("unit", "a", rate)
            assert not refused.allowed
            assert 4.0 < refused.retry_after <= 5.0
            # The key lives until the bucket would be full again (two refills), no longer.
            ttl_ms = await redis.pttl(key)
            assert 9_000 < ttl_ms <= 10_000
            # A refused attempt changes nothing: hammering does not delay the reopening.
            again = await limiter.hit("unit", "a", rate)
            assert not again.allowed and again.retry_after <= refused.retry_after
            assert await redis.pttl(key) <= ttl_ms
            # Another id has its own bucket.
            assert (await limiter.hit("unit", "b", rate)).allowed

            async def pass_time(seconds: float) -> None:
                tat = float(str(await redis.get(key)))
                await redis.set(key, f"{tat - seconds * 1000:.3f}", px=10_000)

            await pass_time(again.retry_after - 0.5)
            assert not (await limiter.hit("unit", "a", rate)).allowed
            await pass_time(0.5)
            assert (await limiter.hit("unit", "a", rate)).allowed
            # One interval refilled one attempt, not two.
            assert not (await limiter.hit("unit", "a", rate)).allowed


async def test_limiter_burst_larger_than_one_interval(settings: Settings) -> None:
    rate = Rate(count=60, period_seconds=60.0, burst=3)  # 3 at once, then one a second
    with trio.fail_after(30):
        async with open_redis(settings.redis_url) as redis:
            limiter = RateLimiter(redis, settings.key_prefix)
            verdicts = [await limiter.hit("unit", "burst", rate) for _ in range(4)]
            assert [v.allowed for v in verdicts] == [True, True, True, False]
            assert 0 < verdicts[3].retry_after <= 1.0


def _dead_redis_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens there now


async def test_limiter_reports_an_unreachable_redis(settings: Settings) -> None:
    with trio.fail_after(30):
        async with open_redis(_dead_redis_url()) as redis:
            limiter = RateLimiter(redis, settings.key_prefix)
            with pytest.raises(UnavailableError):
                await limiter.hit("unit", "a", Rate(count=1, period_seconds=60.0, burst=1))


async def test_request_budget_fails_open_without_redis(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis down: requests pass and each logs a warning (the API budget is a guard only)."""
    limited = settings.model_copy(update={"api_requests_per_minute": 1, "api_burst": 1})
    with trio.fail_after(30):
        async with open_redis(_dead_redis_url()) as redis:
            app = QuartTrio(__name__)
            install_error_handlers(app)
            install_request_budget(app, SimpleNamespace(settings=limited, redis=redis))  # type: ignore[arg-type]

            @app.get("/api/v1/ping")
            async def ping() -> Any:
                return jsonify({"ok": True})

            client = app.test_client()
            with caplog.at_level(logging.WARNING, logger="chat.http.throttle"):
                statuses = [(await client.get("/api/v1/ping")).status_code for _ in range(3)]
            assert statuses == [200, 200, 200]
            assert sum("throttling skipped" in r.getMessage() for r in caplog.records) == 3


def test_bucket_ids() -> None:
    assert address_id("203.0.113.7") == "203.0.113.7"
    assert address_id("::ffff:203.0.113.7") == "203.0.113.7"
    # One IPv6 /64 is one client.
    assert address_id("2001:db8:1:2:aaaa::1") == address_id("2001:db8:1:2:bbbb::2")
    assert address_id("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_id("2001:db8:1:3::1") != address_id("2001:db8:1:2::1")
    assert address_id(None) == address_id("") == "unknown"
    assert email_id("Ann@Example.com") == email_id("ann@example.com")
    assert "example" not in email_id("ann@example.com")
