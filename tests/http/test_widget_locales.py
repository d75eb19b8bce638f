"""The widget's languages on the server (README "Languages"): the catalogues the widget build
writes are served compressed, cached for good and readable from any page; the space's `locale`
setting takes the widget's languages only, and the widget config always says it."""

from __future__ import annotations

import gzip
import json
import typing
import urllib.error
import urllib.request

import brotli
import trio

from chat.http.widget_assets import WIDGET_LOCALES_DIR
from chat.space_settings import WidgetLocale
from tests.helpers.api import assert_error, failed_fields
from tests.helpers.chat import ORIGIN, make_org
from tests.helpers.http import Reply, call

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda body: body}


def _fetch(url: str, accept: str) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(  # noqa: S310
        url, headers={"Accept-Encoding": accept, "Origin": "https://any.example"}
    )
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:  # noqa: S310
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def _built() -> dict[str, str]:
    """The built catalogues: language -> file name."""
    names = sorted(p.name for p in WIDGET_LOCALES_DIR.glob("*.json"))
    return {name.split(".")[0]: name for name in names}


def test_the_setting_offers_exactly_the_built_languages() -> None:
    assert set(typing.get_args(WidgetLocale)) == {"auto", "en", *_built()}
    assert {"de", "fr", "es", "ar"} <= set(_built())


async def test_catalogues_go_compressed_cached_and_cross_origin(base_url: str) -> None:
    with trio.fail_after(30):
        for lang, name in _built().items():
            for accept, encoding in (("gzip, deflate, br", "br"), ("gzip", "gzip"), ("", None)):
                url = f"{base_url}/widget/locales/{name}"
                status, headers, body = await trio.to_thread.run_sync(_fetch, url, accept)
                assert status == 200, (name, status)
                assert headers.get("content-encoding") == encoding
                assert headers["content-type"] == "application/json"
                assert headers["cache-control"] == "public, max-age=31536000, immutable"
                assert headers["access-control-allow-origin"] == "*"
                decoded = DECODE[encoding](body)
                assert decoded == (WIDGET_LOCALES_DIR / name).read_bytes()
                assert "open" in json.loads(decoded), lang


async def test_an_unknown_catalogue_is_a_404(base_url: str) -> None:
    with trio.fail_after(30):
        for name in ("de.000000000000.json", "../widget.js", "de.json", "x" * 300):
            status, _, body = await trio.to_thread.run_sync(
                _fetch, f"{base_url}/widget/locales/{name}", ""
            )
            assert status == 404, name
            if name != "../widget.js":  # the router's own 404 for a path with a slash
                assert_error(Reply(status, json.loads(body), {}), 404, "not_found", name)


async def test_the_space_locale_setting_reaches_the_widget_config(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        space = f"{api}/spaces/{org.space['id']}"
        config = f"{api}/widget/{org.space['widget_key']}/config"
        assert org.space["settings"]["locale"] == "auto"
        shown = await call("GET", config, origin=ORIGIN)
        assert shown.body["space"]["settings"]["locale"] == "auto"

        changed = await call("PATCH", space, {"settings": {"locale": "ar"}}, token=org.token)
        assert changed.status == 200, changed.body
        assert changed.body["settings"]["locale"] == "ar"
        for bad in ("xx", "DE", "de-AT", ""):
            refused = await call("PATCH", space, {"settings": {"locale": bad}}, token=org.token)
            assert "settings.locale" in failed_fields(refused), bad
        # The config is cached 30 s in the space cache at most; a new org's key is fresh.
        later = await make_org(base_url, settings={"locale": "de"})
        key = later.space["widget_key"]
        shown = await call("GET", f"{api}/widget/{key}/config", origin=ORIGIN)
        assert shown.body["space"]["settings"]["locale"] == "de"
