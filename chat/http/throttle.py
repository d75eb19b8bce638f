"""Throttling of the REST API, counted in Redis so that every process spends one shared budget.

- Login: per client address (`login_attempts_per_address_per_minute`, which registration spends
  too: both hash a password, and each registration creates an organization), per email and
  address pair (`login_attempts_per_minute`), and per email from anywhere
  (`login_attempts_per_email_per_minute`, a much higher ceiling). Keyed so that wrong passwords
  sent from elsewhere cannot lock an account's owner out: only distributed guessing at the
  ceiling's rate can, from more addresses than the pair budget allows one. The login handler
  calls check_login_attempt, the registration handler check_registration.
- Registration: besides the address's sign-in budget, `registrations_per_address_per_hour`, which
  bounds how many emails one address can probe through registration's answer.
- Everything under /api/v1: a request budget (`api_requests_per_minute`, `api_burst`) per agent
  when the request carries a valid bearer token, per API key when it carries a well-formed one,
  else per client address.
- API keys that fail (unknown, revoked, wrong secret): per client address, at the sign-in rate
  (`login_attempts_per_address_per_minute`), checked before the key is looked up and counted
  after it failed (check_key_failures, count_key_failure), so guessing costs no database work
  past the budget.

Over a limit: 429 `rate_limited` with `Retry-After` (chat/http/errors.py). The algorithm and the
keys are in chat/streams/limits.py; structures.md ("Throttling") has the whole picture.

When Redis cannot answer in time, requests pass (fail open) and each such request logs a
warning, as a storage failure does in chat/http/errors.py. Throttling is a guard against abuse,
not a part of any answer: turning a Redis outage into a REST outage would lock agents out of
logins, history and settings, which need only PostgreSQL. Guessing passwords stays slow anyway
(argon2), and a client cannot cause the outage through the limiter.

The client address is `client_address(...)` (chat/http/client_address.py): the peer of the TCP
connection, or, behind proxies listed in `trusted_proxies`, the address they forwarded. Without
that setting, behind a reverse proxy every client shares the proxy's address bucket: list the
proxy, or let it limit per client (and raise or zero the per-address settings).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math

from quart import Quart, request

from chat.auth.api_keys import api_key_id, looks_like_api_key
from chat.auth.rotation import check_access_token_any
from chat.config import Settings
from chat.errors import RateLimitedError, UnauthorizedError, UnavailableError
from chat.http.client_address import client_address
from chat.services import Services
from chat.streams.limits import Rate, RateLimiter

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"
MINUTE_SECONDS = 60.0
HOUR_SECONDS = 3600.0

# Buckets: the `{bucket}` of the key `{prefix}:rl:{bucket}:{id}`.
LOGIN_PAIR_BUCKET = "login"  # id: the email's hash (no emails in keys) and the address
LOGIN_EMAIL_BUCKET = "login:email"  # id: a hash of the lower-cased email
SIGN_IN_ADDRESS_BUCKET = "signin"  # id: the client address (login and registration)
REGISTER_ADDRESS_BUCKET = "register"  # id: the client address
API_AGENT_BUCKET = "api:agent"  # id: the agent id of a valid bearer token
API_ADDRESS_BUCKET = "api:addr"  # id: the client address
API_KEY_BUCKET = "api:key"  # id: the row id a well-formed API key names
KEY_FAILURES_BUCKET = "api:key-fail"  # id: the client address

# One host or subscriber usually holds a whole IPv6 /64: counting single addresses there would
# give a client 2**64 budgets.
IPV6_BUCKET_PREFIX_LENGTH = 64
# A peer without an IP address (a Unix socket) shares this bucket.
UNKNOWN_ADDRESS = "unknown"
EMAIL_ID_HEX_CHARS = 32

SIGN_IN_MESSAGE = "too many sign-in attempts from this address; retry later"
LOGIN_MESSAGE = "too many login attempts for this account from this address; retry later"
LOGIN_EMAIL_MESSAGE = "too many login attempts for this account; retry later"
REGISTER_MESSAGE = "too many registrations from this address; retry later"
API_MESSAGE = "too many requests; retry later"
KEY_FAILURES_MESSAGE = "too many failed API keys from this address; retry later"


def per_minute(count: int, burst: int | None = None) -> Rate | None:
    """`count` a minute with a burst of `burst` (default: `count`); None when `count` is 0."""
    if count == 0:
        return None
    return Rate(count=count, period_seconds=MINUTE_SECONDS, burst=burst or count)


def address_id(address: str | None) -> str:
    """The bucket id of a client address: IPv4 as is, IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return UNKNOWN_ADDRESS
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    host_bits = 128 - IPV6_BUCKET_PREFIX_LENGTH
    network = ipaddress.IPv6Network((int(ip) >> host_bits << host_bits, IPV6_BUCKET_PREFIX_LENGTH))
    return str(network)


def email_id(email: str) -> str:
    """The bucket id of an email: lower-cased as the lookup is (chat/db/accounts.py), hashed."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return digest[:EMAIL_ID_HEX_CHARS]


async def check_login_attempt(services: Services, email: str, address: str | None) -> None:
    """Count a login attempt for `email` from `address`; RateLimitedError when over a limit.

    Every attempt counts, right password or not. The buckets are spent from the narrowest
    place outwards: the address, then the email and address pair, then the email's ceiling; an
    attempt refused by one spends nothing of the next, so one address spends at most its pair
    budget of an account's ceiling.
    """
    settings = services.settings
    limiter = RateLimiter(services.redis, settings.key_prefix)  # cheap: no I/O
    address = address_id(address)
    await _spend(
        limiter,
        SIGN_IN_ADDRESS_BUCKET,
        address,
        per_minute(settings.login_attempts_per_address_per_minute),
        SIGN_IN_MESSAGE,
    )
    await _spend(
        limiter,
        LOGIN_PAIR_BUCKET,
        f"{email_id(email)}:{address}",
        per_minute(settings.login_attempts_per_minute),
        LOGIN_MESSAGE,
    )
    await _spend(
        limiter,
        LOGIN_EMAIL_BUCKET,
        email_id(email),
        per_minute(settings.login_attempts_per_email_per_minute),
        LOGIN_EMAIL_MESSAGE,
    )


async def check_registration(services: Services, address: str | None) -> None:
    """Count a registration against the address's sign-in budget and its hourly registration
    budget; RateLimitedError when over either."""
    settings = services.settings
    limiter = RateLimiter(services.redis, settings.key_prefix)
    await _spend(
        limiter,
        SIGN_IN_ADDRESS_BUCKET,
        address_id(address),
        per_minute(settings.login_attempts_per_address_per_minute),
        SIGN_IN_MESSAGE,
    )
    hourly = settings.registrations_per_address_per_hour
    await _spend(
        limiter,
        REGISTER_ADDRESS_BUCKET,
        address_id(address),
        Rate(count=hourly, period_seconds=HOUR_SECONDS, burst=hourly) if hourly else None,
        REGISTER_MESSAGE,
    )


def install_request_budget(app: Quart, services: Services) -> None:
    """Spend a unit of request budget before every /api/v1 request (RateLimitedError when out).

    The budget is the agent's when the request carries a valid bearer token, else the client
    address's. The token's signature is checked here (an HMAC, some 50 us; the handler's check
    costs a database lookup besides): an unchecked `sub` would let anyone who knows an agent's
    id (visitors see it on every agent message) spend that agent's budget, and let a client
    escape its address budget by inventing a new `sub` for each request.

    An API key's budget is its own, by the id it names, unchecked here: only its organization's
    admins ever see a key's id, and a client that invents ids to escape a budget gets each one
    refused, which the address's failure budget (check_key_failures) bounds before any lookup.
    """
    settings = services.settings
    limiter = RateLimiter(services.redis, settings.key_prefix)
    api_rate = per_minute(settings.api_requests_per_minute, settings.api_burst)

    @app.before_request
    async def spend_request_budget() -> None:
        if not request.path.startswith(API_PREFIX):
            return
        key_id = _bearer_key_id()
        if key_id is not None:
            await check_key_failures(services)
            await _spend(limiter, API_KEY_BUCKET, key_id, api_rate, API_MESSAGE)
            return
        agent_id = _bearer_agent_id(settings)
        if agent_id is None:
            address = address_id(client_address(request, settings.trusted_proxies))
            await _spend(limiter, API_ADDRESS_BUCKET, address, api_rate, API_MESSAGE)
        else:
            await _spend(limiter, API_AGENT_BUCKET, agent_id, api_rate, API_MESSAGE)


async def check_key_failures(services: Services) -> None:
    """RateLimitedError when the client address has no failed-key budget left; counts nothing."""
    rate = per_minute(services.settings.login_attempts_per_address_per_minute)
    if rate is None:
        return
    limiter = RateLimiter(services.redis, services.settings.key_prefix)
    try:
        verdict = await limiter.peek(KEY_FAILURES_BUCKET, _request_address(services), rate)
    except UnavailableError as exc:
        logger.warning("throttling skipped, %s: %r", exc.message, exc.__cause__)
        return
    if not verdict.allowed:
        retry_after = max(1, math.ceil(verdict.retry_after))
        raise RateLimitedError(
            KEY_FAILURES_MESSAGE, retry_after=retry_after, retry_after_seconds=retry_after
        )


async def count_key_failure(services: Services) -> None:
    """Count a failed API key against the client address (RateLimitedError past the budget)."""
    settings = services.settings
    limiter = RateLimiter(services.redis, settings.key_prefix)
    rate = per_minute(settings.login_attempts_per_address_per_minute)
    await _spend(
        limiter, KEY_FAILURES_BUCKET, _request_address(services), rate, KEY_FAILURES_MESSAGE
    )


def _request_address(services: Services) -> str:
    return address_id(client_address(request, services.settings.trusted_proxies))


def _bearer_key_id() -> str | None:
    """The key id of an API key in the request (well-formed, not yet checked); a malformed
    key spends the address's budget (its id names nothing)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not looks_like_api_key(token.strip()):
        return None
    return api_key_id(token.strip())


def _bearer_agent_id(settings: Settings) -> str | None:
    """The agent id of the request's bearer token if its signature and expiry hold, else None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return check_access_token_any(settings.verifying_keys, token.strip()).agent_id
    except UnauthorizedError:
        return None


async def _spend(
    limiter: RateLimiter, bucket: str, ident: str, rate: Rate | None, message: str
) -> None:
    if rate is None:
        return
    try:
        verdict = await limiter.hit(bucket, ident, rate)
    except UnavailableError as exc:
        logger.warning("throttling skipped, %s: %r", exc.message, exc.__cause__)
        return
    if not verdict.allowed:
        retry_after = max(1, math.ceil(verdict.retry_after))
        raise RateLimitedError(message, retry_after=retry_after, retry_after_seconds=retry_after)
