"""The Origin rule for the widget: unit tests of the matcher, then through the real server."""

from __future__ import annotations

import json

import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket_url

from chat.http.origin import normalise_entry, origin_allowed
from tests.helpers.chat import Org, make_org, widget
from tests.helpers.http import call

ALLOWED = ["shop.example.com", "localhost:5173", "*.example.org"]


# --- unit: normalise_entry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("example.com", "example.com"),
        ("  Example.COM  ", "example.com"),
        ("example.com.", "example.com"),
        ("localhost:5173", "localhost:5173"),
        ("localhost:05173", "localhost:5173"),
        ("*.Example.com", "*.example.com"),
        ("*.example.com:8443", "*.example.com:8443"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("*.BÜCHER.example", "*.xn--bcher-kva.example"),
    ],
)
def test_normalise_entry_canonical_forms(entry: str, canonical: str) -> None:
    assert normalise_entry(entry) == canonical


@pytest.mark.parametrize(
    "entry",
    [
        "",
        "   ",
        "*.",
        "example.com:",
        "example.com:0",
        "example.com:65536",
        "example.com:http",
        "*.*.example.com",
        "ex*mple.com",
        "example.com/path",
        "user@example.com",
        "https://example.com",
    ],
)
def test_normalise_entry_refuses_malformed(entry: str) -> None:
    assert normalise_entry(entry) is None


# --- unit: origin_allowed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://example.com", ["example.com"]),
        ("http://example.com", ["example.com"]),
        ("https://example.com/", ["example.com"]),
        ("http://localhost:5173", ["localhost:5173"]),
        ("https://a.example.com", ["*.example.com"]),
        ("https://a.b.example.com", ["*.example.com"]),
        ("HTTPS://EXAMPLE.COM", ["example.com"]),
        ("https://example.com", ["EXAMPLE.com"]),
        ("https://Shop.Example.Com", ["shop.EXAMPLE.com"]),
        ("https://xn--bcher-kva.example", ["bücher.example"]),
        ("https://bücher.example", ["bücher.example"]),
        ("https://shop.xn--bcher-kva.example", ["*.bücher.example"]),
        ("https://example.com", ["other.net", "example.com"]),
    ],
)
def test_origin_allowed(origin: str, allowed: list[str]) -> None:
    assert origin_allowed(origin, allowed)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        # host with a port: only that port
        ("http://localhost:5174", ["localhost:5173"]),
        ("http://localhost", ["localhost:5173"]),
        ("http://localhost:5173", ["localhost"]),
        # a wildcard is for subdomains only
        ("https://example.com", ["*.example.com"]),
        # no suffix or look-alike tricks
        ("https://example.com.evil.net", ["example.com"]),
        ("https://example.com.evil.net", ["*.example.com"]),
        ("https://evil-example.com", ["example.com"]),
        ("https://evil-example.com", ["*.example.com"]),
        ("https://evilexample.com", ["*.example.com"]),
        ("https://notexample.com", ["example.com"]),
        ("https://sub.example.com", ["example.com"]),
        # not a browser origin of an allowed site
        ("null", ["example.com"]),
        (None, ["example.com"]),
        ("", ["example.com"]),
        ("example.com", ["example.com"]),
        ("//example.com", ["example.com"]),
        ("https://user@example.com", ["example.com"]),
        ("https://user:pw@example.com", ["example.com"]),
        ("https://evil.net@example.com", ["example.com"]),
        ("https://example.com@evil.net", ["example.com"]),
        ("ftp://example.com", ["example.com"]),
        ("ws://example.com", ["example.com"]),
        ("javascript://example.com", ["example.com"]),
        ("https://example.com/path", ["example.com"]),
        ("https://example.com/?q=1", ["example.com"]),
        ("https://example.com/#frag", ["example.com"]),
        ("https://example.com:notaport", ["example.com"]),
        ("https://example.com:99999", ["example.com"]),
        # nothing allowed, or only malformed entries
        ("https://example.com", []),
        ("https://example.com", ["", "https://example.com", "*"]),
    ],
)
def test_origin_refused(origin: str | None, allowed: list[str]) -> None:
    assert not origin_allowed(origin, allowed)


# --- through the real server -------------------------------------------------------------------


def _ws_url(org: Org, key: str | None = None) -> str:
    return f"{org.ws_base}/ws/widget?key={key or org.space['widget_key']}"


async def _rejected(url: str, origin: str | None) -> ConnectionRejected:
    headers = [("Origin", origin)] if origin is not None else None
    with pytest.raises(ConnectionRejected) as info:
        async with open_websocket_url(url, extra_headers=headers):
            pytest.fail(f"handshake with Origin {origin!r} was accepted")
    return info.value


@pytest.mark.parametrize(
    "origin",
    ["https://shop.example.com", "http://localhost:5173", "https://a.example.org"],
)
async def test_widget_handshake_allowed_origins(base_url: str, origin: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url, allowed=ALLOWED)
        async with widget(org, origin=origin) as (visitor, welcome):
            assert welcome["type"] == "welcome" and welcome["session"]
            assert welcome["visitor"]["space_id"] == org.space["id"]
            await visitor.send({"type": "ping"})
            await visitor.expect("pong")


async def test_widget_handshake_refused_origins(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url, allowed=ALLOWED)
        for origin in (
            "https://shop.example.com.evil.net",
            "https://evil-shop.example.com",
            "https://example.org",
            "http://localhost:5174",
            "https://user@shop.example.com",
            "null",
            None,
        ):
            rejected = await _rejected(_ws_url(org), origin)
            assert rejected.status_code == 403, origin
            if rejected.body:
                assert json.loads(rejected.body)["error"]["code"] == "origin_not_allowed"
        # The refusals did not disturb the space: an allowed origin still connects.
        async with widget(org, origin="https://shop.example.com") as (_visitor, welcome):
            assert welcome["type"] == "welcome"


async def test_widget_handshake_unknown_key_is_404(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url, allowed=ALLOWED)
        for key in ("no-such-key", ""):
            rejected = await _rejected(
                _ws_url(org, key) if key else f"{org.ws_base}/ws/widget", "https://shop.example.com"
            )
            assert rejected.status_code == 404, key


async def test_widget_config_checks_origin(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url, allowed=ALLOWED)
        url = f"{base_url}/api/v1/widget/{org.space['widget_key']}/config"
        for origin in (
            "https://shop.example.com",
            "http://localhost:5173",
            "https://a.example.org",
        ):
            ok = await call("GET", url, origin=origin)
            assert ok.status == 200, (origin, ok.body)
            assert ok.body["space"]["name"] == "Shop"
            assert isinstance(ok.body["space"]["settings"], dict)
            assert isinstance(ok.body["agents_online"], bool)
        for origin in (
            "https://shop.example.com.evil.net",
            "https://evil-shop.example.com",
            "null",
            None,
        ):
            bad = await call("GET", url, origin=origin)
            assert bad.status == 403, (origin, bad.body)
            assert set(bad.body) == {"error"}
            error = bad.body["error"]
            assert error["code"] == "origin_not_allowed"
            assert isinstance(error["message"], str) and error["message"]
            assert "Traceback" not in json.dumps(bad.body)
        unknown = await call(
            "GET", f"{base_url}/api/v1/widget/no-such-key/config", origin="https://shop.example.com"
        )
        assert unknown.status == 404
        assert unknown.body["error"]["code"] == "not_found"
