"""The committed widget build over HTTP: widget.js and each lazy chunk (widget/README.md "Lazy
chunks") go out brotli'd and gzipped with `Vary: Accept-Encoding`, within their budgets as
transferred; chunks are cached for good, answer CORS (their SRI check needs it), and only the
files of this build are served."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest
import trio
from quart_trio import QuartTrio

from chat.http.errors import install_error_handlers
from chat.http.widget_assets import WIDGET_BUNDLE_PATH, widget_assets_blueprint

# widget/scripts/check-size.mjs: what every page downloads, and each chunk on its own.
BUNDLE_BUDGET = 15 * 1024
CHUNK_BUDGET = 6 * 1024
# The window chunk carries the window's CSS (widget/scripts/check-size.mjs).
WINDOW_CHUNK_BUDGET = 8 * 1024
CHUNKS = WIDGET_BUNDLE_PATH.parent / "chunks"
DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}


def _app() -> QuartTrio:
    app = QuartTrio(__name__, static_folder=None)
    install_error_handlers(app)
    app.register_blueprint(widget_assets_blueprint())
    return app


def _files() -> list[tuple[str, bytes, int]]:
    """(URL path, bytes on disk, gzip budget) for widget.js and every committed chunk."""
    if not WIDGET_BUNDLE_PATH.is_file():
        pytest.fail("the widget is not built: run make widget")
    files = [("/widget.js", WIDGET_BUNDLE_PATH.read_bytes(), BUNDLE_BUDGET)]
    for path in sorted(CHUNKS.glob("*.js")):
        budget = WINDOW_CHUNK_BUDGET if path.name.startswith("app.") else CHUNK_BUDGET
        files.append((f"/widget/chunks/{path.name}", path.read_bytes(), budget))
    return files


def test_the_bundle_names_exactly_the_committed_chunks() -> None:
    """Content-hashed names, known to the bundle at build time: every chunk the bundle names is
    there, and no other (a stale chunk would be served for nothing). The window's chunk (app)
    names the inner chunks, shown only inside it (widget/src/chunks.ts INNER_CHUNKS)."""
    name = r"[a-z][a-z0-9-]*\.[0-9a-f]{12}\.js"
    named = set(re.findall(name, WIDGET_BUNDLE_PATH.read_text()))
    (window,) = [n for n in named if n.startswith("app.")]
    inner = set(re.findall(name, (CHUNKS / window).read_text())) - {window}
    on_disk = {path.name for path in CHUNKS.glob("*.js")}
    assert on_disk, "no lazy chunks built"
    assert inner and not inner & named, "an inner chunk is named by the window's chunk only"
    assert named | inner == on_disk


@pytest.mark.parametrize("encoding", ["br", "gzip"])
async def test_bundle_and_chunks_go_out_compressed_within_budget(encoding: str) -> None:
    client = _app().test_client()
    with trio.fail_after(60):
        for path, body, budget in _files():
            reply = await client.get(path, headers={"Accept-Encoding": f"{encoding}, identity"})
            sent = await reply.get_data()
            assert reply.status_code == 200, path
            assert reply.headers["Content-Encoding"] == encoding, path
            assert reply.headers["Vary"] == "Accept-Encoding", path
            assert reply.headers["Content-Type"] == "text/javascript; charset=utf-8", path
            assert DECODE[encoding](sent) == body, path
            # Brotli and gzip both stay within the budget check-size.mjs sets for gzip -9.
            assert len(sent) <= budget, (path, len(sent), budget)
            assert len(sent) < len(body), path


async def test_chunks_are_immutable_and_answer_cors() -> None:
    client = _app().test_client()
    with trio.fail_after(60):
        for path, body, _ in _files()[1:]:
            reply = await client.get(path, headers={"Origin": "https://shop.example"})
            assert reply.status_code == 200
            assert await reply.get_data() == body
            assert reply.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert reply.headers["Access-Control-Allow-Origin"] == "*"
            assert "Access-Control-Allow-Credentials" not in reply.headers
            assert reply.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
            assert reply.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name",
    ["app.000000000000.js", "app.js", "..%2Fwidget.js", "APP.48105f6d58c6.js", "widget.js"],
)
async def test_only_this_builds_chunks_are_served(name: str) -> None:
    client = _app().test_client()
    with trio.fail_after(30):
        reply = await client.get(f"/widget/chunks/{name}")
        assert reply.status_code == 404
        body = await reply.get_json()
        assert body["error"]["code"] == "not_found"
