"""SSRF: private, loopback and link-local destinations are refused at registration and at send
time unless the operator allows them; the request goes to the address that was checked."""

from __future__ import annotations

import ipaddress
import socket

import pytest
import trio

from chat.config import Settings
from chat.errors import WebhookDestinationError
from chat.server import serve
from chat.webhooks.client import Request, deliver, open_webhook_client
from chat.webhooks.destinations import Policy, resolve
from tests.helpers.api import failed_fields
from tests.helpers.chat import make_org
from tests.helpers.http import call
from tests.helpers.webhook_receiver import Receiver

REFUSED = [
    "127.0.0.1",
    "10.1.2.3",
    "192.168.0.10",
    "172.16.5.4",
    "169.254.169.254",  # the cloud metadata address
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",
    "::1",
    "fe80::1",
    "fc00::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_global_addresses_are_refused(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert not Policy().allows(ip)
    assert Policy(allow_private=True).allows(ip)


def test_public_addresses_and_allowed_networks_pass() -> None:
    assert Policy().allows(ipaddress.ip_address("93.184.215.14"))
    assert Policy().allows(ipaddress.ip_address("2606:4700::1"))
    allowed = Policy.of(False, "10.0.0.0/8, 127.0.0.1/32")
    assert allowed.allows(ipaddress.ip_address("10.9.9.9"))
    assert allowed.allows(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert not allowed.allows(ipaddress.ip_address("192.168.1.1"))


async def test_a_name_resolving_to_loopback_is_refused_and_the_address_is_pinned() -> None:
    name = socket.gethostname()
    resolved = ipaddress.ip_address(socket.getaddrinfo(name, 80)[0][4][0])
    if resolved.is_global:
        pytest.skip("this machine's name resolves to a public address")
    with pytest.raises(WebhookDestinationError):
        await resolve(f"http://{name}:8080/hook", Policy())
    target = await resolve(f"http://{name}:8080/hook?x=1", Policy(allow_private=True))
    assert target.address == resolved
    assert target.connect_url == f"http://{resolved}:8080/hook?x=1"
    assert target.host_header == f"{name}:8080"


async def test_send_time_check_refuses_loopback(receiver: Receiver) -> None:
    """The real client, as the sender calls it: refused without a request; allowed by a
    network, it arrives (signed, with the name in Host)."""
    receiver.secrets["/s"] = "whsec_test"
    body = '{"id":"1-0","space_id":"s","kind":"message.created"}'
    request = Request(receiver.url("/s"), "whsec_test", "s", "1-0", "message.created", body)
    with trio.fail_after(20):
        async with open_webhook_client(4) as client:
            refused = await deliver(client, request, Policy(), 5.0)
            assert not refused.ok and refused.status is None
            assert refused.error is not None and "refused" in refused.error
            assert receiver.requests == []
            allowed = await deliver(client, request, Policy.of(False, "127.0.0.0/8"), 5.0)
    assert allowed.ok and allowed.status == 204, allowed
    assert len(receiver.accepted_at("/s")) == 1 and receiver.bad_signatures == 0


async def test_registration_refuses_private_destinations(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """The default settings: no private destinations."""
    assert not settings.webhook_allow_private
    binds = await nursery.start(serve, settings, "127.0.0.1", 0)
    base = str(binds[0])
    with trio.fail_after(30):
        org = await make_org(base)
        url = f"{base}/api/v1/webhooks"
        for bad in (
            "http://127.0.0.1:9999/hook",
            "http://[::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://localhost:8000/",
            "http://app.localhost/",
            f"http://{socket.gethostname()}/",  # resolves to loopback here
            "ftp://example.com/",
            "http://user:pw@example.com/",
            "not a url",
        ):
            reply = await call(
                "POST", url, {"url": bad, "kinds": ["message.created"]}, token=org.token
            )
            assert failed_fields(reply) == {"url"}, (bad, reply.body)
        # A name that does not resolve (yet) is accepted: each attempt checks it again.
        ok = await call(
            "POST",
            url,
            {"url": "https://hooks.example.test/in", "kinds": ["message.created"]},
            token=org.token,
        )
        assert ok.status == 201, ok.body
