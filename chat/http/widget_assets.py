"""The widget bundle: `/widget.js` (short cache) and `/widget.<hash>.js` (cached for a year), and
its lazy chunks: `/widget/chunks/<name>.<hash>.js` (cached for a year; widget/README.md "Lazy
chunks").

`make widget` builds chat/static/widget/widget.js. The app reads it once, when it is made: the
bytes are served from memory, so a hashed URL always names exactly the bytes it serves, and a
rebuilt bundle is served after the next start. See structures.md "How to embed" for which URL
to put in a page.

Neither URL sends `Access-Control-Allow-Origin`: a classic `<script src>` needs no CORS, and
the bundle holds no secret. `Cross-Origin-Resource-Policy: cross-origin` lets pages that
require it (`Cross-Origin-Embedder-Policy: require-corp`) load the script as well.

All go out brotli'd or gzipped when the client accepts it (chat/http/compressed.py): each file
is compressed once, when it is read.

`/widget/locales/<lang>.<hash>.json`: the widget's catalogues besides English (README
"Languages"), built with the bundle into chat/static/widget/locales/, which names them by hash:
cached for a year, compressed, and readable cross-origin (`Access-Control-Allow-Origin: *`: the
widget fetches them from the host page without credentials, and they hold nothing private).

A chunk is loaded by the bundle with `crossorigin` and an SRI hash (`integrity`), which makes it
a CORS request: chunks answer `Access-Control-Allow-Origin: *` (no credentials; they are public
build output, like the bundle). The bundle names each chunk by its content hash, so the files
are read once, at start, like the bundle: a name always serves exactly the bytes it names, and
one not in this build is a 404.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from quart import Blueprint, Response

from chat.errors import NotFoundError, UnavailableError
from chat.http.compressed import AssetDirectory, CompressedAsset, asset_response

logger = logging.getLogger(__name__)

WIDGET_BUNDLE_PATH = Path(__file__).resolve().parent.parent / "static" / "widget" / "widget.js"
WIDGET_LOCALES_DIR = WIDGET_BUNDLE_PATH.parent / "locales"
# What the build names a catalogue (widget/scripts/locales.ts): nothing else is served there.
LOCALE_FILE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]+)?\.[0-9a-f]{12}\.json$")
# `<name>.<12 hex>.js`, as widget/scripts/lazy-chunks.ts names them.
CHUNK_NAME = re.compile(r"^[a-z][a-z0-9-]*\.[0-9a-f]{12}\.js$")
# `/widget.<hash>.js`: the first 12 hex characters of the bundle's SHA-256 (48 bits, plenty to
# tell builds apart; short enough to read in a page's source).
HASH_LENGTH = 12
# `/widget.js` is what embed snippets name, so a new build must reach sites soon: 5 minutes,
# revalidated by ETag after that. A hashed URL never changes its bytes.
SHORT_CACHE = "public, max-age=300"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
CONTENT_TYPE = "text/javascript; charset=utf-8"


def load_widget_bundle(path: Path) -> CompressedAsset | None:
    """The bundle at `path`, compressed, or None (logged) when it has not been built."""
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        logger.warning(
            "widget bundle %s is missing: /widget.js answers 503 (run make widget)", path
        )
        return None
    return CompressedAsset.of(body)


def load_widget_chunks(folder: Path) -> dict[str, CompressedAsset]:
    """The lazy chunks in `folder` (`chunks/` next to the bundle) by file name, compressed."""
    if not folder.is_dir():
        return {}
    return {
        path.name: CompressedAsset.of(path.read_bytes())
        for path in sorted(folder.iterdir())
        if CHUNK_NAME.match(path.name)
    }


def _script_response(bundle: CompressedAsset, cache_control: str) -> Response:
    response = asset_response(bundle, CONTENT_TYPE, cache_control)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def widget_assets_blueprint(
    bundle_path: Path = WIDGET_BUNDLE_PATH, locales_dir: Path = WIDGET_LOCALES_DIR
) -> Blueprint:
    """Routes for the bundle; reads `bundle_path` now (once), not per request."""
    bundle = load_widget_bundle(bundle_path)
    locales = AssetDirectory(locales_dir)
    chunks = load_widget_chunks(bundle_path.parent / "chunks")
    assets = Blueprint("widget_assets", __name__)

    @assets.get("/widget/locales/<name>")
    async def widget_locale(name: str) -> Response:
        found = await locales.get(name) if LOCALE_FILE.match(name) else None
        if found is None:
            # An old widget.js (cached up to SHORT_CACHE) may ask for a replaced catalogue: it
            # then speaks English until it is reloaded.
            raise NotFoundError("no widget catalogue has this name")
        asset, content_type = found
        response = asset_response(asset, content_type, IMMUTABLE_CACHE)
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    @assets.get("/widget.js")
    async def widget_script() -> Response:
        if bundle is None:
            raise UnavailableError(
                "the widget bundle is not built: run `make widget`, then restart the server"
            )
        return _script_response(bundle, SHORT_CACHE)

    @assets.get("/widget.<digest>.js")
    async def hashed_widget_script(digest: str) -> Response:
        if bundle is None or digest != bundle.sha256[:HASH_LENGTH]:
            raise NotFoundError("no widget build has this hash; /widget.js is the current one")
        return _script_response(bundle, IMMUTABLE_CACHE)

    @assets.get("/widget/chunks/<name>")
    async def widget_chunk(name: str) -> Response:
        chunk = chunks.get(name)
        if chunk is None:
            raise NotFoundError("no widget chunk of this name in this build")
        response = _script_response(chunk, IMMUTABLE_CACHE)
        # SRI needs a CORS fetch (the script element's crossorigin); public bytes, no cookies.
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return assets
