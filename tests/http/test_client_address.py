"""client_address: the TCP peer unless it is a trusted proxy; then the right-most forwarded
address that is not one (chat/http/client_address.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import trio
from werkzeug.datastructures import Headers

from chat.config import Settings
from chat.http.client_address import client_address, parse_trusted_proxies
from chat.server import serve
from tests.helpers.http import call

PROXIES = "10.0.0.0/8, 127.0.0.1"


@dataclass
class Peer:
    remote_addr: str | None
    headers: Headers = field(default_factory=Headers)


def peer(address: str | None, *forwarded: str) -> Peer:
    return Peer(address, Headers([("X-Forwarded-For", value) for value in forwarded]))


@pytest.mark.parametrize(
    ("connection", "trusted", "expected"),
    [
        # Off by default: the header is anyone's to write.
        (peer("198.51.100.4", "203.0.113.9"), "", "198.51.100.4"),
        # A peer that is not a trusted proxy: its header is ignored.
        (peer("198.51.100.4", "203.0.113.9"), PROXIES, "198.51.100.4"),
        # Behind our proxy: what it saw.
        (peer("10.1.2.3", "203.0.113.9"), PROXIES, "203.0.113.9"),
        # The client wrote its own entry first: the right-most untrusted one wins.
        (peer("10.1.2.3", "1.2.3.4, 203.0.113.9"), PROXIES, "203.0.113.9"),
        # Two proxies of ours, and the header given twice.
        (peer("127.0.0.1", "6.6.6.6, 203.0.113.9", "10.9.9.9"), PROXIES, "203.0.113.9"),
        # Only our proxies in the chain: the left-most is the client.
        (peer("10.1.2.3", "10.7.7.7"), PROXIES, "10.7.7.7"),
        # Our proxy sent no header: the peer itself.
        (peer("10.1.2.3"), PROXIES, "10.1.2.3"),
        # Something that is not an address where the client should be.
        (peer("10.1.2.3", "unknown"), PROXIES, None),
        (peer("::ffff:10.1.2.3", "2001:db8::1"), PROXIES, "2001:db8::1"),
        (peer(None, "203.0.113.9"), PROXIES, None),
    ],
)
def test_client_address(connection: Peer, trusted: str, expected: str | None) -> None:
    assert client_address(connection, trusted) == expected


def test_trusted_proxies_must_be_networks() -> None:
    assert len(parse_trusted_proxies(" 10.0.0.0/8 , ::1,")) == 2
    with pytest.raises(ValueError):
        parse_trusted_proxies("10.0.0.0/8, proxy.internal")


async def test_the_api_budget_counts_the_forwarded_address(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """Behind a trusted proxy (here: loopback), each forwarded client spends its own budget."""
    settings = settings.model_copy(
        update={"trusted_proxies": "127.0.0.1", "api_requests_per_minute": 2, "api_burst": 2}
    )
    with trio.fail_after(60):
        base = str((await nursery.start(serve, settings, "127.0.0.1", 0))[0])
        me = f"{base}/api/v1/auth/me"

        async def status(client: str) -> int:
            return (await call("GET", me, headers={"X-Forwarded-For": client})).status

        assert [await status("203.0.113.1") for _ in range(3)] == [401, 401, 429]
        assert await status("203.0.113.2") == 401  # another client behind the same proxy
