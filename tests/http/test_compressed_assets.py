"""The widget bundle and the console's files (its chunks too) go out brotli'd or gzipped,
whichever the client accepts (chat/http/compressed.py), each encoding with its own ETag,
`Vary: Accept-Encoding`."""

from __future__ import annotations

import gzip
import hashlib
import urllib.error
import urllib.request
from pathlib import Path

import brotli
import pytest
import trio
from quart_trio import QuartTrio

from chat.http.compressed import MIN_COMPRESSED_BYTES
from chat.http.errors import install_error_handlers
from chat.http.pages import CONSOLE_CHUNK, STATIC_DIR
from chat.http.widget_assets import WIDGET_BUNDLE_PATH, widget_assets_blueprint

# A stand-in bundle big enough to be worth compressing.
BUNDLE = b"/* a stand-in bundle */ window.ChatWidget = {};\n" * 100
SHA = hashlib.sha256(BUNDLE).hexdigest()
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}


def _app(tmp_path: Path) -> QuartTrio:
    path = tmp_path / "widget.js"
    path.write_bytes(BUNDLE)
    app = QuartTrio(__name__, static_folder=None)
    install_error_handlers(app)
    app.register_blueprint(widget_assets_blueprint(path))
    return app


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("gzip, deflate, br, zstd", "br"),  # Chromium's header
        ("gzip", "gzip"),
        ("br;q=0, gzip;q=0.5", "gzip"),
        ("identity", None),
        ("", None),
    ],
)
async def test_the_bundle_goes_in_the_best_accepted_encoding(
    tmp_path: Path, accept: str, encoding: str | None
) -> None:
    client = _app(tmp_path).test_client()
    with trio.fail_after(30):
        reply = await client.get("/widget.js", headers={"Accept-Encoding": accept})
        body = await reply.get_data()
        assert reply.status_code == 200
        assert reply.headers.get("Content-Encoding") == encoding
        assert reply.headers["Vary"] == "Accept-Encoding"
        assert reply.headers["Content-Type"] == "text/javascript; charset=utf-8"
        if encoding is None:
            assert body == BUNDLE
            assert reply.headers["ETag"] == f'"{SHA}"'
        else:
            assert len(body) < len(BUNDLE) / 5
            assert DECODE[encoding](body) == BUNDLE
            assert reply.headers["ETag"] == f'"{SHA}-{encoding}"'


async def test_a_304_only_for_the_encoding_the_client_holds(tmp_path: Path) -> None:
    client = _app(tmp_path).test_client()
    with trio.fail_after(30):
        br = await client.get(f"/widget.{SHA[:12]}.js", headers={"Accept-Encoding": "br"})
        etag = br.headers["ETag"]
        again = await client.get(
            f"/widget.{SHA[:12]}.js", headers={"Accept-Encoding": "br", "If-None-Match": etag}
        )
        assert again.status_code == 304
        assert await again.get_data() == b""
        # The brotli copy's tag does not stand for the gzip bytes.
        other = await client.get(
            f"/widget.{SHA[:12]}.js", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
        )
        assert other.status_code == 200
        assert gzip.decompress(await other.get_data()) == BUNDLE


def _fetch(url: str, accept: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names) and the body as it came."""
    req = urllib.request.Request(url, headers={"Accept-Encoding": accept})  # noqa: S310
    with urllib.request.urlopen(req, timeout=20) as resp:  # noqa: S310
        return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()


@pytest.mark.parametrize(
    ("path", "built"),
    [
        ("/widget.js", WIDGET_BUNDLE_PATH),
        ("/static/console/console.js", STATIC_DIR / "console" / "console.js"),
        ("/static/console/console.css", STATIC_DIR / "console" / "console.css"),
    ],
)
async def test_the_served_builds_go_compressed_over_http(
    base_url: str, path: str, built: Path
) -> None:
    """Over a real socket: the committed builds, brotli'd for a browser, gzipped for a client
    that only takes gzip, and as they are for one that asks for nothing."""
    with trio.fail_after(30):
        for accept, encoding in (("gzip, deflate, br", "br"), ("gzip", "gzip"), ("", None)):
            status, headers, body = await trio.to_thread.run_sync(_fetch, base_url + path, accept)
            assert status == 200
            assert headers.get("content-encoding") == encoding
            assert headers["vary"] == "Accept-Encoding"
            decoded = DECODE[encoding](body) if encoding else body
            assert decoded == built.read_bytes()


CONSOLE_DIR = STATIC_DIR / "console"


async def test_the_console_chunks_go_compressed_and_cached_for_a_year(base_url: str) -> None:
    """The committed build's chunks (console/vite.config.ts), over a real socket: JavaScript
    (a module script is refused under nosniff without it), compressed like console.js, and
    cached for a year since their names carry their hash; console.js and console.css keep
    their names, so they are revalidated on every load; a chunk not in this build is a 404."""
    chunks = sorted(p for p in CONSOLE_DIR.iterdir() if CONSOLE_CHUNK.match(p.name))
    assert {p.name.split(".")[0] for p in chunks} >= {"admin", "canned"}
    with trio.fail_after(60):
        for chunk in chunks:
            compressed = chunk.stat().st_size >= MIN_COMPRESSED_BYTES
            for accept, encoding in (("gzip, deflate, br", "br"), ("gzip", "gzip"), ("", None)):
                url = f"{base_url}/static/console/{chunk.name}"
                status, headers, body = await trio.to_thread.run_sync(_fetch, url, accept)
                assert status == 200
                assert headers["content-type"] == "text/javascript; charset=utf-8"
                assert headers["cache-control"] == "public, max-age=31536000, immutable"
                assert headers["x-content-type-options"] == "nosniff"
                assert headers.get("content-encoding") == (encoding if compressed else None)
                assert headers.get("vary") == ("Accept-Encoding" if compressed else None)
                decoded = DECODE[encoding](body) if encoding and compressed else body
                assert decoded == chunk.read_bytes()
        for name in ("console.js", "console.css"):
            url = f"{base_url}/static/console/{name}"
            status, headers, _ = await trio.to_thread.run_sync(_fetch, url, "br")
            assert (status, headers["cache-control"]) == (200, "no-cache")
        gone = f"{base_url}/static/console/admin.000000000000.js"
        with pytest.raises(urllib.error.HTTPError) as missing:
            await trio.to_thread.run_sync(_fetch, gone, "br")
        assert missing.value.code == 404
